// The real slipway-agent against a fake controller: a CURVE ROUTER in this
// test that speaks common/protocol.h, answers what the agent asks, and
// checks what the agent does in each deployment state.
#include <catch2/catch.hpp>
#include <map>
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

class FakeController {
 public:
  FakeController() : router_(context_, zmq::socket_type::router) {
    keys_ = *crypto::generate_keypair();
    router_.set(zmq::sockopt::linger, 0);
    REQUIRE(crypto::make_curve_server(router_, keys_).ok());
    router_.bind("tcp://127.0.0.1:*");
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  }

  // A contextualization for one agent of this controller, written to `path`.
  void write_context(const std::string& path) {
    auto agent_keys = *crypto::generate_keypair();
    Contextualization c{endpoint_, keys_.public_key, agent_keys.public_key, agent_keys.secret_key,
                        "dep-x",   "web.1"};
    REQUIRE(fs::write_file_atomic(path, c.to_text(), 0600).ok());
  }

  // Receives and records messages, answering requests as a controller
  // would, until `done` holds. Fails the test after `timeout_ms`.
  void pump_until(const std::function<bool()>& done, int timeout_ms = 10000) {
    int64_t deadline = now() + timeout_ms;
    while (!done()) {
      INFO("received so far: " << sequence());
      REQUIRE(now() < deadline);
      zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t id, frame;
      (void)router_.recv(id);
      (void)router_.recv(frame);
      peer_ = id.to_string();
      auto message = proto::decode_agent_message(frame.to_string_view());
      REQUIRE(message.ok());
      received.push_back(*message);
      answer(*message);
    }
  }

  void send(const proto::ControllerMessage& message) {
    REQUIRE(!peer_.empty());
    router_.send(zmq::buffer(peer_), zmq::send_flags::sndmore);
    router_.send(zmq::buffer(proto::encode(message)), zmq::send_flags::none);
  }

  template <typename T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const auto& m : received) {
      if (const T* t = std::get_if<T>(&m)) out.push_back(*t);
    }
    return out;
  }
  bool state_done(const std::string& state) const {
    for (const auto& d : all<proto::StateDone>()) {
      if (d.state == state) return true;
    }
    return false;
  }
  std::string output(const std::string& step) const {
    std::string out;
    for (const auto& log : all<proto::Log>()) {
      if (log.step == step && log.stream == proto::kStdout) out += log.data;
    }
    return out;
  }
  std::string sequence() const {
    std::string out;
    for (const auto& m : received) {
      if (std::holds_alternative<proto::Log>(m) || std::holds_alternative<proto::Heartbeat>(m)) {
        continue;
      }
      out += std::string(out.empty() ? "" : " ") + std::string(proto::type_name(m));
    }
    return out;
  }

  std::vector<proto::AgentMessage> received;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> reports;
  bool answer_gets = true;

 private:
  static int64_t now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void reply(uint64_t id, const std::string& code, const std::string& value = "") {
    send(proto::Reply{id, code, value, {}, ""});
  }
  void answer(const proto::AgentMessage& message) {
    if (const auto* set = std::get_if<proto::Set>(&message)) {
      params[set->key] = set->value;
      reply(set->id, "ok");
    } else if (const auto* get = std::get_if<proto::Get>(&message)) {
      if (!answer_gets) return;
      auto it = params.find(get->key);
      if (it != params.end()) {
        reply(get->id, "ok", it->second);
      } else if (!get->wait) {
        reply(get->id, "not-set");
      }
    } else if (const auto* chunk = std::get_if<proto::ReportChunk>(&message)) {
      reports[chunk->name] += chunk->data;
      reply(chunk->id, "ok");
    }
  }

  zmq::context_t context_;
  zmq::socket_t router_;
  crypto::KeyPair keys_;
  std::string endpoint_;
  std::string peer_;
};

proto::Step step(const std::string& id, const std::string& state, const std::string& body) {
  proto::Step s;
  s.id = id;
  s.state = state;
  s.kind = "script";
  s.name = id;
  s.module = "examples/hello/server";
  s.body = body;
  return s;
}

proto::Welcome welcome(const std::string& state, std::vector<proto::Step> steps) {
  proto::Welcome w;
  w.instance = "web.1";
  w.deployment = "dep-x";
  w.heartbeat_ms = 60000;  // this fake sends none
  w.state = state;
  w.plan.platform = "debian";
  w.plan.steps = std::move(steps);
  return w;
}

}  // namespace

TEST_CASE("the agent runs its recipe state by state for the controller", "[integration][agent]") {
  TempDir dir;
  FakeController controller;
  std::string context = dir.path() + "/context";
  controller.write_context(context);
  std::string state_dir = dir.path() + "/state";
  std::vector<proto::Step> plan = {
      step("pre", "Executing", "echo pre; ss-set port 8080; ss-get --noblock port"),
      step("deploy", "Executing", "ss-display deploying && echo \"$SLIPWAY_NODE\" done"),
      step("report", "SendingReports", "echo collected > \"$SLIPWAY_REPORT_DIR/r.txt\""),
  };
  Process agent({agent_path(), "--context", context, "--state-dir", state_dir},
                dir.path() + "/agent.log");

  controller.pump_until([&] { return !controller.all<proto::Hello>().empty(); });
  CHECK(controller.all<proto::Hello>()[0].completed.empty());
  controller.send(welcome("Executing", plan));
  controller.pump_until([&] { return controller.state_done("Executing"); });
  INFO("agent log:\n" << read_text(dir.path() + "/agent.log"));
  CHECK(controller.sequence() ==
        "hello step_started set get step_done step_started set step_done state_done");
  CHECK(controller.output("pre") == "pre\n8080\n");
  CHECK(controller.output("deploy") == "web done\n");
  CHECK(controller.params["statecustom"] == "deploying");
  for (const auto& done : controller.all<proto::StepDone>()) CHECK(done.exit_code == 0);

  controller.send(proto::StateChanged{"SendingReports", false, ""});
  controller.pump_until([&] { return controller.state_done("SendingReports"); });
  CHECK(controller.reports["r.txt"] == "collected\n");
  CHECK(controller.reports["_slipway/scripts.log"].find("web done\n") != std::string::npos);

  // slipway exec, with the scripts' environment.
  controller.send(proto::Exec{77, {"sh", "-c", "echo $SLIPWAY_NODE_INSTANCE; exit 3"}, 5000});
  controller.pump_until([&] { return !controller.all<proto::ExecResult>().empty(); });
  CHECK(controller.all<proto::ExecResult>()[0].id == 77);
  CHECK(controller.all<proto::ExecResult>()[0].exit_code == 3);
  CHECK(controller.all<proto::ExecResult>()[0].output == "web.1\n");

  // The ss-* commands exist beside the state.
  CHECK(fs::exists(state_dir + "/bin/ss-get"));
  CHECK(read_text(state_dir + "/progress") == "pre\ndeploy\nreport\n");

  // A restarted agent says what it completed and runs none of it again.
  agent.kill();
  FakeController second;
  second.write_context(context);
  Process again({agent_path(), "--context", context, "--state-dir", state_dir},
                dir.path() + "/agent2.log");
  second.pump_until([&] { return !second.all<proto::Hello>().empty(); });
  CHECK(second.all<proto::Hello>()[0].completed ==
        std::vector<std::string>{"deploy", "pre", "report"});
  second.send(welcome("Executing", plan));
  second.pump_until([&] { return second.state_done("Executing"); });
  CHECK(second.sequence() == "hello state_done");
}

TEST_CASE("an abort releases a blocked ss-get with 8 and stops the script",
          "[integration][agent]") {
  TempDir dir;
  FakeController controller;
  controller.answer_gets = false;
  std::string context = dir.path() + "/context";
  controller.write_context(context);
  std::string state_dir = dir.path() + "/state";
  // The script ignores SIGTERM so that it lives to see ss-get's answer.
  std::string body =
      "trap '' TERM\nss-get --timeout 0 db:ready\necho $? > " + dir.path() + "/code\nsleep 30\n";
  Process agent({agent_path(), "--context", context, "--state-dir", state_dir},
                dir.path() + "/agent.log");
  controller.pump_until([&] { return !controller.all<proto::Hello>().empty(); });
  controller.send(welcome("Executing", {step("blocked", "Executing", body)}));
  controller.pump_until([&] { return !controller.all<proto::Get>().empty(); });

  auto start = std::chrono::steady_clock::now();
  controller.send(proto::StateChanged{"Executing", true, "web.2: ERROR 1045"});
  controller.pump_until([&] { return !controller.all<proto::StepDone>().empty(); }, 5000);
  auto took = std::chrono::steady_clock::now() - start;
  INFO("agent log:\n" << read_text(dir.path() + "/agent.log"));
  CHECK(took < std::chrono::milliseconds(3500));
  CHECK(read_text(dir.path() + "/code") == "8\n");
  CHECK(controller.all<proto::StepDone>()[0].exit_code == 137);
  CHECK_FALSE(controller.state_done("Executing"));
}
