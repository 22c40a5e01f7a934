// Any configuration file gives a Config or an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)slipway::parse_config(text, "fuzz.yaml");
  return 0;
}
