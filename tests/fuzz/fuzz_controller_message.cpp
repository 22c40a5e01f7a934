// Decoding what a controller sends never crashes the agent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto decoded = slipway::proto::decode_controller_message(frame);
  if (!decoded.ok()) return 0;
  std::string again = slipway::proto::encode(*decoded);
  auto second = slipway::proto::decode_controller_message(again);
  if (!second.ok() || slipway::proto::encode(*second) != again) std::abort();
  return 0;
}
