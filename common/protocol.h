// The agent protocol: every message between slipway-agent and slipwayd.
//
// Transport: ZeroMQ over CURVE, agent DEALER to controller ROUTER, one frame
// per message. Each message is a msgpack map holding "v" (kVersion), "t" (the
// type name) and the fields below; docs/protocol.md describes the same schema
// in prose and the two must change together.
//
// Each message type lists its fields once, in visit(); the encoder and the
// decoder are both generated from that list. Decoding never throws and never
// trusts a size: see decode_agent_message() and decode_controller_message().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace slipway::proto {

inline constexpr int64_t kVersion = 1;
// An encoded message larger than this is refused by both sides.
inline constexpr size_t kMaxMessageSize = 4 << 20;
// A runtime parameter value (SPEC section 4).
inline constexpr size_t kMaxValueSize = 64 << 10;
// Report files and logs travel in chunks of at most this many bytes.
inline constexpr size_t kMaxChunkSize = 256 << 10;

// Output streams of a script, in Log messages.
inline constexpr int64_t kStdout = 1;
inline constexpr int64_t kStderr = 2;

// ---------------------------------------------------------------- the plan

// One step of an instance's recipe, computed by the controller.
struct Step {
  std::string id;      // unique within the instance, e.g. "post-install:examples/lamp/db"
  std::string state;   // the deployment state the step belongs to: "Executing", "SendingReports"
  std::string kind;    // "script" or "packages"
  std::string name;    // "pre-install", "packages", "deployment", "report", "on-scale", ...
  std::string module;  // the module that defined it
  std::string body;    // the script text (kind "script")
  std::vector<std::string> packages;  // kind "packages"
  template <typename V>
  void visit(V& v) {
    v("id", id), v("state", state), v("kind", kind), v("name", name), v("module", module),
        v("body", body), v("packages", packages);
  }
};

struct Plan {
  std::string platform;  // "debian", "ubuntu", "alpine", "fedora", "centos", "busybox", ...
  std::vector<Step> steps;
  std::map<std::string, std::string> env;  // extra environment for every script
  template <typename V>
  void visit(V& v) {
    v("platform", platform), v("steps", steps), v("env", env);
  }
};

// ------------------------------------------------- agent to controller

struct Hello {
  static constexpr std::string_view kType = "hello";
  std::string agent_version;
  std::string instance;                // what the agent believes it is; the key decides
  std::vector<std::string> completed;  // step ids this machine has completed
  template <typename V>
  void visit(V& v) {
    v("agent_version", agent_version), v("instance", instance), v("completed", completed);
  }
};

struct Heartbeat {
  static constexpr std::string_view kType = "heartbeat";
  template <typename V>
  void visit(V&) {}
};

// Reads a runtime parameter. With wait, the controller answers when it is set.
struct Get {
  static constexpr std::string_view kType = "get";
  uint64_t id = 0;
  std::string key;
  int64_t timeout_ms = 60000;  // 0 waits forever
  bool wait = true;
  template <typename V>
  void visit(V& v) {
    v("id", id), v("key", key), v("timeout_ms", timeout_ms), v("wait", wait);
  }
};

// Reads KEY of every instance of NODE, waiting for each.
struct GetAll {
  static constexpr std::string_view kType = "get_all";
  uint64_t id = 0;
  std::string node;
  std::string key;
  int64_t timeout_ms = 60000;
  template <typename V>
  void visit(V& v) {
    v("id", id), v("node", node), v("key", key), v("timeout_ms", timeout_ms);
  }
};

struct Set {
  static constexpr std::string_view kType = "set";
  uint64_t id = 0;
  std::string key;
  std::string value;
  template <typename V>
  void visit(V& v) {
    v("id", id), v("key", key), v("value", value);
  }
};

struct Barrier {
  static constexpr std::string_view kType = "barrier";
  uint64_t id = 0;
  std::string name;
  int64_t count = 0;               // 0: every live instance (or every one of `nodes`)
  std::vector<std::string> nodes;  // empty: all nodes
  int64_t timeout_ms = 0;
  template <typename V>
  void visit(V& v) {
    v("id", id), v("name", name), v("count", count), v("nodes", nodes), v("timeout_ms", timeout_ms);
  }
};

// ss-abort: raises (or with cancel clears) the deployment's abort flag.
struct Abort {
  static constexpr std::string_view kType = "abort";
  uint64_t id = 0;
  std::string reason;
  bool cancel = false;
  template <typename V>
  void visit(V& v) {
    v("id", id), v("reason", reason), v("cancel", cancel);
  }
};

struct StepStarted {
  static constexpr std::string_view kType = "step_started";
  std::string step;
  template <typename V>
  void visit(V& v) {
    v("step", step);
  }
};

// A step ended. A non-zero exit_code aborts the deployment with error_line.
struct StepDone {
  static constexpr std::string_view kType = "step_done";
  std::string step;
  int64_t exit_code = 0;
  std::string error_line;  // the last line the script wrote to stderr
  template <typename V>
  void visit(V& v) {
    v("step", step), v("exit_code", exit_code), v("error_line", error_line);
  }
};

// The instance completed its part of deployment state `state` (a barrier arrival).
struct StateDone {
  static constexpr std::string_view kType = "state_done";
  std::string state;
  template <typename V>
  void visit(V& v) {
    v("state", state);
  }
};

// Output of a running step. (step, stream, seq) is unique, so a chunk resent
// after a reconnect is stored once.
struct Log {
  static constexpr std::string_view kType = "log";
  std::string step;
  int64_t stream = kStdout;
  uint64_t seq = 0;
  std::string data;  // msgpack bin: output need not be UTF-8
  template <typename V>
  void visit(V& v) {
    v("step", step), v("stream", stream), v("seq", seq), v.bin("data", data);
  }
};

// A piece of a report file. Chunks of one file arrive in order of offset.
struct ReportChunk {
  static constexpr std::string_view kType = "report";
  uint64_t id = 0;
  std::string name;  // relative path under the report directory
  uint64_t offset = 0;
  std::string data;
  bool last = false;
  template <typename V>
  void visit(V& v) {
    v("id", id), v("name", name), v("offset", offset), v.bin("data", data), v("last", last);
  }
};

struct ExecResult {
  static constexpr std::string_view kType = "exec_result";
  uint64_t id = 0;
  int64_t exit_code = 0;
  std::string output;
  template <typename V>
  void visit(V& v) {
    v("id", id), v("exit_code", exit_code), v.bin("output", output);
  }
};

// ------------------------------------------------- controller to agent

struct Welcome {
  static constexpr std::string_view kType = "welcome";
  std::string instance;  // who the controller knows this agent to be
  std::string deployment;
  int64_t heartbeat_ms = 5000;
  std::string state;  // the deployment's state now
  bool aborted = false;
  std::string abort_reason;
  Plan plan;
  std::vector<std::string> completed;  // steps the controller knows were completed
  template <typename V>
  void visit(V& v) {
    v("instance", instance), v("deployment", deployment), v("heartbeat_ms", heartbeat_ms),
        v("state", state), v("aborted", aborted), v("abort_reason", abort_reason), v("plan", plan),
        v("completed", completed);
  }
};

// The answer to a request carrying `id`. code is a code_name() ("ok", "timeout", ...).
struct Reply {
  static constexpr std::string_view kType = "reply";
  uint64_t id = 0;
  std::string code = "ok";
  std::string value;
  std::vector<std::string> values;  // get_all: "INSTANCE VALUE" lines
  std::string message;              // for errors: one sentence
  template <typename V>
  void visit(V& v) {
    v("id", id), v("code", code), v("value", value), v("values", values), v("message", message);
  }
};

// The deployment changed state, or its abort flag changed.
struct StateChanged {
  static constexpr std::string_view kType = "state";
  std::string state;
  bool aborted = false;
  std::string abort_reason;
  template <typename V>
  void visit(V& v) {
    v("state", state), v("aborted", aborted), v("abort_reason", abort_reason);
  }
};

// Run a command now (slipway exec).
struct Exec {
  static constexpr std::string_view kType = "exec";
  uint64_t id = 0;
  std::vector<std::string> argv;
  int64_t timeout_ms = 60000;
  template <typename V>
  void visit(V& v) {
    v("id", id), v("argv", argv), v("timeout_ms", timeout_ms);
  }
};

// The deployment is scaling: run the on-scale steps of round `round`.
struct Scale {
  static constexpr std::string_view kType = "scale";
  int64_t round = 0;
  std::string action;  // "add" or "remove"
  std::string node;
  std::vector<std::string> instances;
  std::vector<Step> steps;
  template <typename V>
  void visit(V& v) {
    v("round", round), v("action", action), v("node", node), v("instances", instances),
        v("steps", steps);
  }
};

// The controller will not talk to this agent any more (key revoked, deployment over).
struct Goodbye {
  static constexpr std::string_view kType = "goodbye";
  std::string reason;
  template <typename V>
  void visit(V& v) {
    v("reason", reason);
  }
};

using AgentMessage = std::variant<Hello, Heartbeat, Get, GetAll, Set, Barrier, Abort, StepStarted,
                                  StepDone, StateDone, Log, ReportChunk, ExecResult>;
using ControllerMessage =
    std::variant<Welcome, Heartbeat, Reply, StateChanged, Exec, Scale, Goodbye>;

// Encodes one message, with version and type, as one msgpack map.
std::string encode(const AgentMessage& message);
std::string encode(const ControllerMessage& message);

// Decodes one frame. Fails with Code::kProtocol, never an exception, for:
// more than kMaxMessageSize bytes, not msgpack, trailing bytes, not a map,
// another protocol version, an unknown type, a missing or mistyped field, or
// a string field over its limit.
Result<AgentMessage> decode_agent_message(std::string_view frame);
Result<ControllerMessage> decode_controller_message(std::string_view frame);

// The type name of a message, for logs.
std::string_view type_name(const AgentMessage& message);
std::string_view type_name(const ControllerMessage& message);

}  // namespace slipway::proto
