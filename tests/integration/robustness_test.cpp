// Bad input from any side gets a clear error and changes nothing; no input
// crashes the controller.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>
#include <zmq.hpp>

#include "common/context.h"
#include "common/crypto.h"
#include "common/frame.h"
#include "common/protocol.h"
#include "support/curve_socket.h"
#include "support/harness.h"

using namespace slipway;
using namespace slipway::test;

namespace {

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Sends raw bytes and returns the decoded answer (or an empty Value when the
// controller hung up without one).
Value send_raw(const std::string& socket, const std::string& bytes) {
  int fd = connect_unix(socket);
  REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(bytes.size()));
  auto answer = frame::read_frame(fd, frame::kMaxControlFrame);
  ::close(fd);
  if (!answer.ok()) return Value();
  auto value = Value::unpack(*answer);
  return value.ok() ? *value : Value();
}

}  // namespace

TEST_CASE("garbage on the control socket gets a clear error and the controller keeps serving",
          "[integration][robustness]") {
  Harness h;
  h.start();

  Value not_msgpack = send_raw(h.socket(), frame::encode("\xc1\xc1 not msgpack"));
  CHECK_FALSE(not_msgpack["ok"].as_bool(true));
  CHECK(not_msgpack["code"].str() == "usage");
  CHECK(not_msgpack["error"].str().find("not valid msgpack") != std::string::npos);

  Value not_a_map = send_raw(h.socket(), frame::encode(Value::array().push(1).pack()));
  CHECK(not_a_map["error"].str() == "a request must be a map with an \"op\"");

  Value unknown =
      send_raw(h.socket(), frame::encode(Value::object().set("op", "format-disk").pack()));
  CHECK(unknown["error"].str().find("unknown request \"format-disk\"") != std::string::npos);

  // A length far over the limit: answered, then the connection is closed.
  Value huge = send_raw(h.socket(), std::string("\x7f\xff\xff\xff", 4));
  CHECK(huge["error"].str().find("over the limit") != std::string::npos);

  // Random bytes, then hanging up mid-frame.
  int fd = connect_unix(h.socket());
  std::string noise = crypto::random_alphanumeric(3) + std::string("\x00\x01", 2);
  (void)::send(fd, noise.data(), noise.size(), MSG_NOSIGNAL);
  ::close(fd);

  // Several requests on one connection are answered in order.
  fd = connect_unix(h.socket());
  std::string two = frame::encode(Value::object().set("op", "status").pack()) +
                    frame::encode(Value::object().set("op", "nope").pack());
  REQUIRE(::send(fd, two.data(), two.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(two.size()));
  auto first = Value::unpack(*frame::read_frame(fd, frame::kMaxControlFrame));
  auto second = Value::unpack(*frame::read_frame(fd, frame::kMaxControlFrame));
  ::close(fd);
  CHECK((*first)["ok"].as_bool());
  CHECK_FALSE((*second)["ok"].as_bool(true));

  REQUIRE(h.running());
  CHECK(h.cli({"status"}).status == 0);
}

TEST_CASE("garbage on the agent endpoint is dropped and the controller keeps serving",
          "[integration][robustness]") {
  Harness h;
  h.start();
  std::string endpoint = "tcp://127.0.0.1:" + std::to_string(h.agent_port());
  auto context = Contextualization::parse(read_text(h.register_agent("fuzzy")));
  REQUIRE(context.ok());

  // Raw TCP bytes that are not ZMTP at all.
  zmq::context_t zmq_context;
  {
    zmq::socket_t raw(zmq_context, zmq::socket_type::stream);
    raw.set(zmq::sockopt::linger, 0);
    raw.connect(endpoint);
    auto id = raw.get(zmq::sockopt::routing_id);
    std::string id_str(id.data(), id.size());
    raw.send(zmq::buffer(id_str), zmq::send_flags::sndmore);
    raw.send(zmq::str_buffer("GET / HTTP/1.0\r\n\r\n\xff\xff\xff\xff"), zmq::send_flags::none);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  // A properly authenticated client sending nonsense.
  {
    zmq::socket_t dealer(zmq_context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    REQUIRE(crypto::make_curve_client(dealer, {context->public_key, context->secret_key},
                                      context->server_key)
                .ok());
    dealer.connect(endpoint);
    dealer.send(zmq::str_buffer("\xc1 not msgpack"), zmq::send_flags::none);
    dealer.send(zmq::str_buffer("\x93\x01\x02\x03"), zmq::send_flags::none);  // not a map
    std::string wrong_version = proto::encode(proto::AgentMessage(proto::Heartbeat{}));
    wrong_version[wrong_version.find('\x01')] = '\x07';  // "v": 7
    dealer.send(zmq::buffer(wrong_version), zmq::send_flags::none);
    dealer.send(zmq::str_buffer("two"), zmq::send_flags::sndmore);  // multipart
    dealer.send(zmq::str_buffer("frames"), zmq::send_flags::none);
    std::string oversize(proto::kMaxMessageSize + 16, 'x');  // over ZMQ_MAXMSGSIZE: disconnected
    dealer.send(zmq::buffer(oversize), zmq::send_flags::none);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }

  REQUIRE(h.running());
  CHECK(read_text(h.log()).find("dropped a message from agent key") != std::string::npos);
  // A real agent still gets in.
  Process agent = h.start_agent(h.dir() + "/fuzzy.context", "fuzzy.log");
  REQUIRE(eventually([&] { return h.agent_state("fuzzy") == "connected"; }, 10000));
}

TEST_CASE("the slipway command answers bad arguments and a missing controller clearly",
          "[integration][cli]") {
  TempDir dir;
  Output no_controller = run({slipway_path(), "--socket", dir.path() + "/none.sock", "status"});
  CHECK(no_controller.status == 1);
  CHECK(no_controller.err.find("cannot reach slipwayd at " + dir.path() + "/none.sock") !=
        std::string::npos);
  CHECK(no_controller.err.find("is slipwayd running?") != std::string::npos);

  Output unknown = run({slipway_path(), "frobnicate"});
  CHECK(unknown.status == 2);
  Output nothing = run({slipway_path()});
  CHECK(nothing.status == 2);
  Output version = run({slipway_path(), "--version"});
  CHECK(version.status == 0);
  CHECK(version.out.rfind("slipway ", 0) == 0);
}

TEST_CASE("slipwayd refuses bad command lines and configuration with one sentence",
          "[integration][controller]") {
  TempDir dir;
  std::string config = dir.path() + "/bad.yaml";
  REQUIRE(fs::write_file_atomic(config, "heartbeat-interval: often\n", 0644).ok());
  Output bad_config = run({slipwayd_path(), "--config", config, "--data-dir", dir.path()});
  CHECK(bad_config.status == 1);
  CHECK(bad_config.err ==
        "slipwayd: " + config +
            ":1: heartbeat-interval: \"often\" is not a duration such as 30s, 5m or 1h\n");

  Output bad_endpoint = run({slipwayd_path(), "--agent-endpoint", "udp://x"});
  CHECK(bad_endpoint.status == 2);
  Output bad_bind = run({slipwayd_path(), "--data-dir", dir.path() + "/d", "--control-socket",
                         dir.path() + "/s.sock", "--agent-endpoint", "tcp://256.1.1.1:1"});
  CHECK(bad_bind.status == 1);
  CHECK(bad_bind.err.find("cannot listen for agents on tcp://256.1.1.1:1") != std::string::npos);
}
