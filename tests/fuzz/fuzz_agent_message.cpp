// Decoding what an agent sends never crashes, and what decodes re-encodes to
// something that decodes to the same message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto decoded = slipway::proto::decode_agent_message(frame);
  if (!decoded.ok()) return 0;
  std::string again = slipway::proto::encode(*decoded);
  auto second = slipway::proto::decode_agent_message(again);
  if (!second.ok() || slipway::proto::encode(*second) != again) std::abort();
  return 0;
}
