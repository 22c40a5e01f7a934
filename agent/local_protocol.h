// The agent's local socket, SLIPWAY_AGENT_SOCKET: how the ss-* commands on a
// machine reach its agent. A Unix stream socket, mode 0600 (scripts run as
// root), carrying frames of common/frame.h, each a msgpack map (Value).
//
// Request {"op": OP, ...}:
//   get      {key, timeout_ms, wait}        ss-get (wait=false for --noblock)
//   get_all  {node, key, timeout_ms}        ss-get-all
//   set      {key, value}                   ss-set, ss-display (key "statecustom"), ss-random KEY
//   barrier  {name, count, nodes, timeout_ms}   ss-barrier
//   abort    {reason, cancel}               ss-abort
// timeout_ms 0 waits forever.
//
// Answer {"code": CODE, "value": STRING, "values": [STRING...], "message": SENTENCE}
// where CODE is a code_name() (common/status.h); the command exits with
// ss_exit_code(code_from_name(CODE)).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"

namespace slipway::agent::local {

inline constexpr const char* kGet = "get";
inline constexpr const char* kGetAll = "get_all";
inline constexpr const char* kSet = "set";
inline constexpr const char* kBarrier = "barrier";
inline constexpr const char* kAbort = "abort";

// Frames on the local socket are small: a value is at most 64 KiB.
inline constexpr size_t kMaxLocalFrame = 1 << 20;

// A request is the agent-to-controller message it becomes, its id still 0.
using Request = std::variant<proto::Get, proto::GetAll, proto::Set, proto::Barrier, proto::Abort>;

struct Answer {
  std::string code = "ok";
  std::string value;
  std::vector<std::string> values;
  std::string message;
};

// Both codecs produce and accept the msgpack payload of one frame.
std::string encode_request(const Request& request);
// Fails with kUsage for an unknown op or a missing key or name, and with
// kInvalidArgument for a value over proto::kMaxValueSize or a negative
// timeout or count.
Result<Request> decode_request(std::string_view payload);

std::string encode_answer(const Answer& answer);
Result<Answer> decode_answer(std::string_view payload);

// The local deadline of a request: how long the agent waits for the
// controller's answer before it says "unavailable" (while the link is down).
// 0: no local deadline.
int64_t local_deadline_ms(const Request& request);

}  // namespace slipway::agent::local
