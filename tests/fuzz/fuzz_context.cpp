// Contextualization in all its forms (file, kernel command line, user-data)
// never crashes the agent that reads it.
#include <cstddef>
#include <cstdint>

#include "common/context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)slipway::Contextualization::parse(text);
  (void)slipway::Contextualization::parse_kernel_args(text);
  (void)slipway::Contextualization::parse_user_data(text);
  return 0;
}
