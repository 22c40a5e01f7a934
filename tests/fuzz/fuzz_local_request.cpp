// What a process on the machine writes to the agent's local socket (the
// ss-* commands, or anything else running as root there) never crashes the
// agent's decoder, and what it accepts encodes back to a request it accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/local_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slipway::agent::local;
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto request = decode_request(payload);
  if (request.ok() && !decode_request(encode_request(*request)).ok()) std::abort();
  auto answer = decode_answer(payload);
  if (answer.ok() && !decode_answer(encode_answer(*answer)).ok()) std::abort();
  return 0;
}
