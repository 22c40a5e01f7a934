#include "common/protocol.h"

#include <catch2/catch.hpp>
#include <msgpack.hpp>

using namespace slipway;
using namespace slipway::proto;

namespace {

Step sample_step() {
  Step s;
  s.id = "post-install:examples/lamp/db";
  s.state = "Executing";
  s.kind = "script";
  s.name = "post-install";
  s.module = "examples/lamp/db";
  s.body = "#!/bin/sh\necho \"hi\" >&2\n";
  s.packages = {"mariadb-server", "curl"};
  return s;
}

// One filled-in sample of every message each side can send.
std::vector<AgentMessage> agent_samples() {
  Hello hello{"0.1.0", "web.2", {"pre-install:base", "packages"}};
  Get get{7, "db:ready", 0, true};
  GetAll get_all{8, "web", "url", 5000};
  Set set{9, "port", std::string("3306\0x", 6)};
  Barrier barrier{10, "ready", 3, {"db", "web"}, 1500};
  Abort abort{11, "disk full", false};
  StepStarted started{"deployment:examples/lamp/db"};
  StepDone done{"deployment:examples/lamp/db", 3, "ERROR 1045: access denied"};
  StateDone state_done{"Executing"};
  Log log{"deployment:x", kStderr, 42, std::string("\xff\x00\x01 binary", 10)};
  ReportChunk report{12, "logs/apache.log", 262144, std::string(1000, 'r'), true};
  ExecResult exec_result{13, 127, "sh: nope: not found\n"};
  return {hello,   Heartbeat{}, get,        get_all, set,    barrier,    abort,
          started, done,        state_done, log,     report, exec_result};
}

std::vector<ControllerMessage> controller_samples() {
  Welcome welcome;
  welcome.instance = "web.2";
  welcome.deployment = "k3v9x2qa";
  welcome.heartbeat_ms = 250;
  welcome.state = "Executing";
  welcome.aborted = true;
  welcome.abort_reason = "db.1: exited 1";
  welcome.plan.platform = "debian";
  welcome.plan.steps = {sample_step(), sample_step()};
  welcome.plan.env = {{"SLIPWAY_NODE", "web"}, {"LANG", "C.UTF-8"}};
  welcome.completed = {"pre-install:base"};
  Reply reply{7, "ok", "3306", {"web.1 http://a", "web.2 http://b"}, ""};
  StateChanged state{"SendingReports", true, "aborted by alice"};
  Exec exec{3, {"sh", "-c", "uptime"}, 10000};
  Scale scale{2, "add", "web", {"web.3", "web.4"}, {sample_step()}};
  Goodbye bye{"key revoked"};
  return {welcome, Heartbeat{}, reply, state, exec, scale, bye};
}

template <typename Variant>
Result<Variant> decode(std::string_view bytes);
template <>
Result<AgentMessage> decode<AgentMessage>(std::string_view b) {
  return decode_agent_message(b);
}
template <>
Result<ControllerMessage> decode<ControllerMessage>(std::string_view b) {
  return decode_controller_message(b);
}

// Field-by-field equality through the same visit() the codec uses.
struct Collector {
  std::vector<std::string> parts;
  template <typename T>
  void operator()(const char* name, T& value) {
    parts.push_back(name);
    if constexpr (std::is_same_v<T, std::string>)
      parts.push_back(value);
    else if constexpr (std::is_arithmetic_v<T>)
      parts.push_back(std::to_string(value));
    else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      for (auto& v : value) parts.push_back(v);
    } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
      for (auto& [k, v] : value) parts.push_back(k + "=" + v);
    } else if constexpr (std::is_same_v<T, std::vector<Step>>) {
      for (auto& s : value) s.visit(*this);
    } else {
      value.visit(*this);
    }
  }
  void bin(const char* name, std::string& value) { (*this)(name, value); }
};

template <typename Variant>
std::vector<std::string> fields_of(const Variant& message) {
  Collector c;
  std::visit(
      [&](const auto& m) {
        auto copy = m;
        copy.visit(c);
        c.parts.insert(c.parts.begin(), std::string(std::decay_t<decltype(m)>::kType));
      },
      message);
  return c.parts;
}

template <typename Variant>
void check_all(const std::vector<Variant>& samples) {
  REQUIRE(samples.size() == std::variant_size_v<Variant>);  // every type has a sample
  for (const auto& sample : samples) {
    std::string bytes = encode(sample);
    INFO("message " << type_name(sample));

    // Round trip.
    auto back = decode<Variant>(bytes);
    REQUIRE(back.ok());
    CHECK(back->index() == sample.index());
    CHECK(fields_of(*back) == fields_of(sample));

    // Every truncation fails cleanly, with a protocol error.
    for (size_t cut = 0; cut < bytes.size(); cut += (bytes.size() > 4000 ? 97 : 1)) {
      auto truncated = decode<Variant>(std::string_view(bytes).substr(0, cut));
      REQUIRE_FALSE(truncated.ok());
      CHECK(truncated.error().code() == Code::kProtocol);
    }

    // Trailing bytes are refused.
    auto trailing = decode<Variant>(bytes + "x");
    REQUIRE_FALSE(trailing.ok());
    CHECK(trailing.error().message().find("after its end") != std::string::npos);
  }
}

// Re-encodes `bytes` with the top-level field `key` replaced.
template <typename T>
std::string with_field(const std::string& bytes, const std::string& key, const T& value) {
  msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size());
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  const msgpack::object& map = handle.get();
  p.pack_map(map.via.map.size);
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    p.pack(map.via.map.ptr[i].key);
    if (map.via.map.ptr[i].key.as<std::string>() == key)
      p.pack(value);
    else
      p.pack(map.via.map.ptr[i].val);
  }
  return std::string(buffer.data(), buffer.size());
}

}  // namespace

TEST_CASE("every agent message survives a round trip and fails cleanly when truncated",
          "[protocol]") {
  check_all(agent_samples());
}

TEST_CASE("every controller message survives a round trip and fails cleanly when truncated",
          "[protocol]") {
  check_all(controller_samples());
}

TEST_CASE("a message of another protocol version is refused", "[protocol]") {
  std::string bytes = encode(AgentMessage(Heartbeat{}));
  auto wrong = with_field(bytes, "v", 2);
  auto result = decode_agent_message(wrong);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code() == Code::kProtocol);
  CHECK(result.error().message() == "message has protocol version 2, this program speaks 1");
}

TEST_CASE("an unknown message type is refused by name", "[protocol]") {
  std::string bytes = encode(AgentMessage(Heartbeat{}));
  auto unknown = decode_agent_message(with_field(bytes, "t", std::string("launch_missiles")));
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message() == "unknown message type \"launch_missiles\"");
  // A controller message is not an agent message, and the other way round.
  auto welcome_as_agent = decode_agent_message(encode(ControllerMessage(Welcome{})));
  CHECK_FALSE(welcome_as_agent.ok());
  auto hello_as_controller = decode_controller_message(encode(AgentMessage(Hello{})));
  CHECK_FALSE(hello_as_controller.ok());
}

TEST_CASE("an oversized frame is refused before it is parsed", "[protocol]") {
  std::string huge(kMaxMessageSize + 1, '\x90');
  auto result = decode_agent_message(huge);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message().find("over the limit") != std::string::npos);
}

TEST_CASE("missing and mistyped fields are named", "[protocol]") {
  std::string bytes = encode(AgentMessage(Get{1, "db:port", 100, true}));
  auto mistyped = decode_agent_message(with_field(bytes, "key", 12));
  REQUIRE_FALSE(mistyped.ok());
  CHECK(mistyped.error().message() == "field get.key is not a string");

  auto negative_id = decode_agent_message(with_field(bytes, "id", -1));
  REQUIRE_FALSE(negative_id.ok());
  CHECK(negative_id.error().message() == "field get.id is not an unsigned integer");

  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_map(3);
  p.pack("v"), p.pack(1), p.pack("t"), p.pack("get"), p.pack("id"), p.pack(1);
  auto missing = decode_agent_message(std::string_view(buffer.data(), buffer.size()));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() == "message get lacks field key");
}

TEST_CASE("frames that are not a msgpack map are refused", "[protocol]") {
  for (std::string garbage : {std::string(""), std::string("\xc1"), std::string("\x93\x01\x02\x03"),
                              std::string("hello world"), std::string("\xdd\xff\xff\xff\xff")}) {
    auto result = decode_agent_message(garbage);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code() == Code::kProtocol);
  }
}

TEST_CASE("a frame declaring a huge array does not allocate it", "[protocol]") {
  // array32 claiming 4 billion elements, then nothing.
  std::string bomb("\xdd\xff\xff\xff\xff", 5);
  auto result = decode_controller_message(bomb);
  REQUIRE_FALSE(result.ok());
  // A map nested deeper than the limit is refused too.
  std::string deep(1000, '\x91');
  deep += '\xc0';
  CHECK_FALSE(decode_controller_message(deep).ok());
}
