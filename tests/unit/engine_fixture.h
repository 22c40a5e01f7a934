// The deployment engine's test fixture: a real in-memory store and catalog,
// a ManualClock, and recording fakes of the engine's ports (engine_ports.h).
#pragma once

#include <catch2/catch.hpp>

#include "controller/catalog/catalog.h"
#include "controller/deployments/deployment_engine.h"
#include "controller/deployments/planner.h"
#include "controller/store/store.h"
#include "support/temp_dir.h"

namespace slipway::controller::engine_test {

using namespace slipway;

struct FakeAgents : AgentLink {
  std::set<std::string> connected;  // display() of connected agents
  std::vector<std::pair<std::string, proto::ControllerMessage>> sent;
  std::function<void(const proto::ControllerMessage&)> on_send;  // as each message leaves
  bool send(const AgentIdentity& who, const proto::ControllerMessage& m) override {
    if (!connected.count(who.display())) return false;
    if (on_send) on_send(m);
    sent.emplace_back(who.display(), m);
    return true;
  }
  // The replies sent to `who`, by request id.
  std::map<uint64_t, proto::Reply> replies(const std::string& who) const {
    std::map<uint64_t, proto::Reply> out;
    for (const auto& [to, m] : sent) {
      if (auto* r = std::get_if<proto::Reply>(&m); r && to == who) out[r->id] = *r;
    }
    return out;
  }
};

struct FakeProvisioner : Provisioner {
  std::vector<std::pair<std::string, LaunchOrder>> launches;
  std::vector<std::pair<std::string, TerminateOrder>> terminations;
  void launch(const std::string& d, std::vector<LaunchOrder> orders) override {
    for (auto& o : orders) launches.emplace_back(d, std::move(o));
  }
  void terminate(const std::string& d, std::vector<TerminateOrder> orders) override {
    for (auto& o : orders) terminations.emplace_back(d, std::move(o));
  }
  std::vector<std::pair<std::string, SnapshotOrder>> snapshots;
  void snapshot(const std::string& d, SnapshotOrder order) override {
    snapshots.emplace_back(d, std::move(order));
  }
};

struct FakeKeys : KeyKeeper {
  std::map<std::string, AgentIdentity> live;
  Status admit(const std::string& key, const AgentIdentity& who) override {
    live[key] = who;
    return ok_status();
  }
  void revoke(const std::string& key, const std::string&) override { live.erase(key); }
};

inline constexpr const char* kBase =
    "kind: image\nname: base/host\nplatform: debian\nreference: {local: {rootfs: host}}\n";
inline constexpr const char* kServer = R"(kind: image
name: t/server
parent: base/host
parameters: {outputs: [port]}
scripts: {deployment: serve, report: report}
)";
inline constexpr const char* kClient = R"(kind: image
name: t/client
parent: base/host
parameters: {inputs: {server_port: {}}, outputs: [got]}
scripts: {deployment: fetch}
)";
inline constexpr const char* kPair = R"(kind: deployment
name: t/pair
nodes:
  server: {image: t/server}
  client:
    image: t/client
    multiplicity: 2
    max-provisioning-failures: 1
    inputs: {server_port: server:port}
)";

struct Fixture {
  std::unique_ptr<Store> store = Store::open(":memory:").value();
  ManualClock clock;
  EventLog events{*store, clock};
  FakeAgents agents;
  FakeProvisioner provisioner;
  FakeKeys keys;
  Catalog catalog{*store, clock};
  // Where builds keep their files: a directory of the test's own.
  test::TempDir build_files;
  ImageBuilds builds{*store, clock, build_files.path() + "/builds"};
  Config config = default_config();
  std::unique_ptr<DeploymentEngine> engine;
  Caller owner;

  Fixture() {
    owner.uid = 1000;
    owner.user = "alice";
    REQUIRE(catalog.install_builtin(kBase, "base").ok());
    REQUIRE(catalog.push(owner, {{"s", kServer}, {"c", kClient}, {"p", kPair}}).ok());
    make_engine();
  }
  void make_engine() {
    EngineSettings settings;
    settings.heartbeat_timeout_ms = 30000;
    settings.provisioning_timeout_ms = 60000;
    engine = std::make_unique<DeploymentEngine>(*store, clock, events, agents, provisioner, keys,
                                                builds, settings);
    REQUIRE(engine->start().ok());
    engine->resume();
  }
  std::string deploy(DeployRequest request = {}) {
    if (request.module.empty()) request.module = "t/pair";
    auto plan = plan_deployment(owner, request, catalog, config);
    REQUIRE(plan.ok());
    auto id = engine->create(owner, *plan);
    REQUIRE(id.ok());
    return *id;
  }
  DeploymentState state(const std::string& id) {
    auto d = engine->find(owner, id);
    REQUIRE(d.ok());
    return d->state;
  }
  // Every launched machine comes up and its agent says hello and finishes Provisioning.
  void boot_all(const std::string& id) {
    auto dropped = [&](const std::string& instance) {
      return engine->find(owner, id)->instances.at(instance).status == InstanceStatus::kFailed;
    };
    for (const auto& [d, order] : provisioner.launches) {
      if (d != id || dropped(order.spec.instance)) continue;
      engine->on_launched(id, order.spec.instance,
                          connectors::Machine{order.spec.machine_id,
                                              "10.0.0." + order.spec.instance.substr(
                                                              order.spec.instance.find('.') + 1),
                                              "running"});
    }
    for (const auto& [d, order] : provisioner.launches) {
      if (d != id || dropped(order.spec.instance)) continue;
      hello(id, order.spec.instance);
    }
  }
  void hello(const std::string& id, const std::string& instance) {
    AgentIdentity who{id, instance};
    agents.connected.insert(who.display());
    auto welcome = engine->on_hello(who, proto::Hello{"test", instance, {}}, "10.9.9.9");
    REQUIRE(welcome.has_value());
    engine->on_message(who, proto::StateDone{welcome->state});
  }
  void finish_state(const std::string& id, const std::string& state) {
    auto d = engine->find(owner, id);
    for (const auto& [name, i] : d->instances) {
      if (is_live(i.status)) engine->on_message(AgentIdentity{id, name}, proto::StateDone{state});
    }
  }
  void terminate_all(const std::string& id) {
    auto orders = provisioner.terminations;
    for (const auto& [d, order] : orders) {
      if (d == id) engine->on_terminated(id, order.instance, ok_status());
    }
  }
  std::optional<std::string> param(const std::string& id, const std::string& key) {
    return engine->parameters().get(id, key);
  }
};

}  // namespace slipway::controller::engine_test
