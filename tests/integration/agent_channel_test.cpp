// The secure agent channel end to end: real slipwayd, real static agents,
// real CURVE over loopback.
#include <catch2/catch.hpp>
#include <csignal>
#include <memory>
#include <thread>
#include <zmq.hpp>

#include "common/context.h"
#include "common/crypto.h"
#include "common/fs.h"
#include "common/protocol.h"
#include "support/curve_socket.h"
#include "support/harness.h"

using namespace slipway;
using namespace slipway::test;

namespace {
// Short heartbeats so liveness is observable in a test.
constexpr const char* kFastHeartbeats = "heartbeat-interval: 200ms\nheartbeat-timeout: 2s\n";
}  // namespace

TEST_CASE("a registered agent connects and shows in slipway status --json",
          "[integration][agent]") {
  Harness h;
  h.start();
  std::string context = h.register_agent("alpha");
  Process agent = h.start_agent(context, "alpha.log");
  REQUIRE(eventually([&] { return h.agent_state("alpha") == "connected"; }, 10000));

  Value status = h.cli_json({"status"});
  CHECK(status["agents_connected"].as_int() == 1);
  const Value& entry = status["agents"].items().at(0);
  CHECK(entry["address"].str() == "127.0.0.1");
  CHECK(entry["version"].str() == status["version"].str());
  CHECK(read_text(h.dir() + "/alpha.log").find("connected to the controller") != std::string::npos);
}

TEST_CASE("an agent with an unknown key is refused and never appears", "[integration][agent]") {
  Harness h;
  h.start();
  // A well-formed contextualization for the right controller, but a key the
  // controller never registered.
  Value status = h.cli_json({"status"});
  auto keys = crypto::generate_keypair();
  Contextualization c{"tcp://127.0.0.1:" + std::to_string(h.agent_port()),
                      status["controller_key"].str(),
                      keys->public_key,
                      keys->secret_key,
                      "",
                      "intruder"};
  std::string path = h.dir() + "/intruder.context";
  REQUIRE(fs::write_file_atomic(path, c.to_text(), 0600).ok());
  Process agent = h.start_agent(path, "intruder.log");

  REQUIRE(eventually(
      [&] {
        return read_text(h.dir() + "/intruder.log").find("refused this agent's key") !=
               std::string::npos;
      },
      10000));
  CHECK(h.agent_state("intruder").empty());
  CHECK(h.cli_json({"status"})["agents_connected"].as_int() == 0);
  CHECK(read_text(h.log()).find("is not registered or was revoked") != std::string::npos);
  // It retries slowly: within two seconds it has not tried again.
  size_t refusals_before = 0;
  std::string log = read_text(h.dir() + "/intruder.log");
  for (size_t at = log.find("refused"); at != std::string::npos; at = log.find("refused", at + 1)) {
    ++refusals_before;
  }
  CHECK(refusals_before == 1);
  CHECK(agent.running());
}

TEST_CASE("an agent that talks to the wrong controller key is refused too",
          "[integration][agent]") {
  Harness h;
  h.start();
  std::string context_path = h.register_agent("confused");
  auto context = Contextualization::parse(read_text(context_path));
  REQUIRE(context.ok());
  context->server_key = crypto::generate_keypair()->public_key;  // someone else's controller
  REQUIRE(fs::write_file_atomic(context_path, context->to_text(), 0600).ok());
  Process agent = h.start_agent(context_path, "confused.log");
  CHECK_FALSE(eventually([&] { return h.agent_state("confused") == "connected"; }, 3000));
  CHECK(agent.running());
}

TEST_CASE("a revoked key is dropped at once and refused afterwards", "[integration][agent]") {
  Harness h;
  h.start();
  Process agent = h.start_agent(h.register_agent("beta"), "beta.log");
  REQUIRE(eventually([&] { return h.agent_state("beta") == "connected"; }, 10000));

  Output revoked = h.cli({"agent", "revoke", "beta"});
  REQUIRE(revoked.status == 0);
  CHECK(h.agent_state("beta").empty());
  REQUIRE(eventually(
      [&] {
        return read_text(h.dir() + "/beta.log").find("refused this agent's key") !=
               std::string::npos;
      },
      15000));
  CHECK(h.agent_state("beta").empty());
  Value list = h.cli_json({"agent", "list"});
  REQUIRE(list.items().size() == 1);
  CHECK(list.items()[0]["state"].str() == "revoked");
  // Revoking again is a clear "not found".
  Output again = h.cli({"agent", "revoke", "beta"});
  CHECK(again.status == 3);
  CHECK(again.err == "slipway: no live key for agent beta\n");
}

TEST_CASE("a killed agent turns lost after the heartbeat timeout", "[integration][agent]") {
  Harness h(kFastHeartbeats);
  h.start();
  Process agent = h.start_agent(h.register_agent("gamma"), "gamma.log");
  REQUIRE(eventually([&] { return h.agent_state("gamma") == "connected"; }, 10000));
  // Heartbeats keep a live agent connected well past the timeout.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(h.agent_state("gamma") == "connected");

  agent.kill();
  CHECK(h.agent_state("gamma") == "connected");  // not before the timeout
  REQUIRE(eventually([&] { return h.agent_state("gamma") == "lost"; }, 6000));
  CHECK(read_text(h.log()).find("agent gamma is lost") != std::string::npos);
}

TEST_CASE("the connection of an agent that vanished without closing it is closed",
          "[integration][agent]") {
  Harness h(kFastHeartbeats);
  h.start();
  Process agent = h.start_agent(h.register_agent("delta"), "delta.log");
  REQUIRE(eventually([&] { return h.agent_state("delta") == "connected"; }, 10000));
  CHECK(h.cli_json({"status"})["agent_connections"].as_int() == 1);
  // Stopped, the agent keeps its end open and says nothing, as a machine
  // powered off or a virtual machine killed would.
  agent.signal(SIGSTOP);
  REQUIRE(eventually([&] { return h.agent_state("delta") == "lost"; }, 6000));
  CHECK(
      eventually([&] { return h.cli_json({"status"})["agent_connections"].as_int() == 0; }, 3000));
  CHECK(h.cli({"status"}).out.find("agents        0 connected, listening") != std::string::npos);
  agent.signal(SIGCONT);
  // Back, it finds its connection closed and makes a new one.
  REQUIRE(eventually([&] { return h.agent_state("delta") == "connected"; }, 10000));
  CHECK(h.cli_json({"status"})["agent_connections"].as_int() == 1);
}

TEST_CASE("an agent's hello on a new connection closes its old one", "[integration][agent]") {
  Harness h;
  h.start();
  auto context = Contextualization::parse(read_text(h.register_agent("epsilon")));
  REQUIRE(context.ok());
  zmq::context_t zmq_context;
  auto connect_and_hello = [&] {
    auto d = std::make_unique<zmq::socket_t>(zmq_context, zmq::socket_type::dealer);
    REQUIRE(crypto::make_curve_client(*d, {context->public_key, context->secret_key},
                                      context->server_key)
                .ok());
    d->set(zmq::sockopt::linger, 0);
    d->set(zmq::sockopt::rcvtimeo, 10000);
    d->set(zmq::sockopt::reconnect_ivl, -1);  // a closed connection stays closed
    d->connect(context->endpoint);
    proto::Hello hello;
    hello.instance = "epsilon";
    d->send(zmq::buffer(proto::encode(proto::AgentMessage{hello})));
    zmq::message_t welcome;
    REQUIRE(d->recv(welcome).has_value());
    auto decoded = proto::decode_controller_message(welcome.to_string());
    REQUIRE(decoded.ok());
    CHECK(std::holds_alternative<proto::Welcome>(*decoded));
    return d;
  };
  auto first = connect_and_hello();
  auto second = connect_and_hello();
  CHECK(
      eventually([&] { return h.cli_json({"status"})["agent_connections"].as_int() == 1; }, 3000));
  CHECK(h.agent_state("epsilon") == "connected");
}

TEST_CASE("after a controller crash and restart the agent reconnects by itself",
          "[integration][agent]") {
  Harness h(kFastHeartbeats);
  h.start();
  Process agent = h.start_agent(h.register_agent("delta"), "delta.log");
  REQUIRE(eventually([&] { return h.agent_state("delta") == "connected"; }, 10000));
  pid_t agent_pid = agent.pid();

  h.restart_after_crash();
  REQUIRE(eventually([&] { return h.agent_state("delta") == "connected"; }, 15000));
  CHECK(agent.pid() == agent_pid);
  CHECK(agent.running());
  CHECK(read_text(h.dir() + "/delta.log").find("reconnected to the controller") !=
        std::string::npos);
}

TEST_CASE("the agent's key pair survives a restart and a second controller is refused",
          "[integration][controller]") {
  Harness h;
  h.start();
  std::string key_before = h.cli_json({"status"})["controller_key"].str();
  REQUIRE(h.terminate() == 0);
  h.start();
  CHECK(h.cli_json({"status"})["controller_key"].str() == key_before);

  // Same data directory, second daemon: one clear sentence, exit 1.
  Output second = run({slipwayd_path(), "--data-dir", h.dir() + "/data", "--control-socket",
                       h.dir() + "/other.sock", "--agent-endpoint", "tcp://127.0.0.1:*"});
  CHECK(second.status == 1);
  CHECK(second.err.find("another slipwayd is already using the data directory") !=
        std::string::npos);
}
