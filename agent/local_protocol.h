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

namespace slipway::agent::local {

inline constexpr const char* kGet = "get";
inline constexpr const char* kGetAll = "get_all";
inline constexpr const char* kSet = "set";
inline constexpr const char* kBarrier = "barrier";
inline constexpr const char* kAbort = "abort";

// Frames on the local socket are small: a value is at most 64 KiB.
inline constexpr size_t kMaxLocalFrame = 1 << 20;

}  // namespace slipway::agent::local
