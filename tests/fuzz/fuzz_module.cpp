// A module file from a user (slipway module push) never crashes the parser:
// any YAML, or bytes that are not YAML at all, is a module or one error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "controller/catalog/module.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)slipway::controller::parse_module(text, "fuzz.yaml");
  (void)slipway::controller::split_reference(text);
  return 0;
}
