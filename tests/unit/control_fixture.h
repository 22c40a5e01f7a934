// What the control handlers' tests share: a Reply whose frames are kept in
// memory, a fake of the clouds, and the engine fixture's store, catalog and
// engine (engine_fixture.h) for the handlers to work on, with a real
// AgentHub for those that need one.
#pragma once

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "common/crypto.h"
#include "controller/agents/agent_hub.h"
#include "controller/control/clouds.h"
#include "controller/control/reply.h"
#include "unit/engine_fixture.h"

namespace slipway::controller::control_test {

// A ReplySink that keeps what is sent. Nothing is ever waiting to be
// written, so drained callbacks run when the test calls drain().
class RecordingSink final : public ReplySink {
 public:
  void send(Value message, bool final) override {
    if (answer_ || closed_) return;
    if (final)
      answer_ = std::move(message);
    else
      events_.push_back(message["event"]);
  }
  bool closed() const override { return closed_; }
  void on_close(std::function<void()> callback) override {
    if (closed_) return callback();
    close_callbacks_.push_back(std::move(callback));
  }
  void when_drained(std::function<void()> callback) override {
    drained_.push_back(std::move(callback));
  }

  // The caller goes away, as when `slipway` is interrupted.
  void hang_up() {
    if (closed_) return;
    closed_ = true;
    auto callbacks = std::move(close_callbacks_);
    if (!answer_) {
      for (auto& callback : callbacks) callback();
    }
  }
  // Runs drained callbacks until none is left.
  void drain() {
    while (!drained_.empty()) {
      auto callbacks = std::move(drained_);
      drained_.clear();
      for (auto& callback : callbacks) callback();
    }
  }

  bool answered() const { return answer_.has_value(); }
  const std::vector<Value>& events() const { return events_; }
  // The final answer's parts; REQUIREs there is one.
  bool ok() const {
    REQUIRE(answer_);
    return (*answer_)["ok"].as_bool();
  }
  const Value& result() const {
    REQUIRE(answer_);
    INFO(answer_->to_json());
    REQUIRE(ok());
    return (*answer_)["result"];
  }
  std::string code() const {
    REQUIRE(answer_);
    return (*answer_)["code"].str();
  }
  std::string error() const {
    REQUIRE(answer_);
    return (*answer_)["error"].str();
  }

 private:
  std::optional<Value> answer_;
  std::vector<Value> events_;
  std::vector<std::function<void()>> close_callbacks_;
  std::vector<std::function<void()>> drained_;
  bool closed_ = false;
};

// Calls `method` of `handlers` with `request`, as the server would.
template <typename Handlers>
std::shared_ptr<RecordingSink> call(Handlers& handlers,
                                    void (Handlers::*method)(const Caller&, const Value&, Reply),
                                    const Caller& caller, const Value& request) {
  auto sink = std::make_shared<RecordingSink>();
  (handlers.*method)(caller, request, Reply(sink));
  return sink;
}

struct FakeClouds final : Clouds {
  std::map<std::string, std::string> broken;    // cloud -> why
  std::map<std::string, std::string> consoles;  // machine id -> its console
  CloudState state(const std::string& cloud) override {
    auto it = broken.find(cloud);
    if (it != broken.end()) return CloudState::unavailable(it->second);
    return CloudState{CloudState::Phase::kReady};
  }
  std::set<std::string> cannot_snapshot;  // clouds
  Status check_snapshot(const std::string& cloud, const Value&) override {
    if (cannot_snapshot.count(cloud) == 0) return ok_status();
    return Error(Code::kFailedPrecondition, "cloud " + cloud + " cannot snapshot machines");
  }
  Result<std::string> console_log(const std::string&, const std::string& machine_id) override {
    auto it = consoles.find(machine_id);
    if (it == consoles.end()) return Error(Code::kNotFound, "no console for " + machine_id);
    return it->second;
  }
};

// The engine fixture and an AgentHub listening on a port of 127.0.0.1 the
// kernel picks, never a fixed one.
struct HubFixture : engine_test::Fixture {
  boost::asio::io_context io;
  FakeClouds clouds;
  crypto::KeyPair controller_keys;
  std::unique_ptr<AgentHub> hub;

  HubFixture() {
    crypto::init();
    controller_keys = crypto::generate_keypair().value();
    hub = std::make_unique<AgentHub>(io, clock, *store, events, AgentHubSettings{});
    REQUIRE(hub->start("tcp://127.0.0.1:*", controller_keys).ok());
  }
  ~HubFixture() { hub->stop(); }
};

inline Caller stranger() {
  Caller c;
  c.uid = 1001;
  c.gid = 1001;
  c.user = "bob";
  return c;
}

inline Caller admin() {
  Caller c;
  c.uid = 0;
  c.admin = true;
  c.user = "root";
  return c;
}

}  // namespace slipway::controller::control_test
