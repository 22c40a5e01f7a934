// Control requests (msgpack Values) never crash the decoder or the JSON printer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/value.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto value = slipway::Value::unpack(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!value.ok()) return 0;
  (void)value->to_json();
  auto again = slipway::Value::unpack(value->pack());
  // Compared as bytes: NaN is not equal to itself.
  if (!again.ok() || again->pack() != value->pack()) std::abort();
  return 0;
}
