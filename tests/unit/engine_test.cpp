// The deployment state machine, driven through its injected interfaces: no
// sockets, no machines, no sleeps. Time moves with a ManualClock.
#include <catch2/catch.hpp>

#include "controller/catalog.h"
#include "controller/deployment_engine.h"
#include "controller/planner.h"
#include "controller/store.h"

using namespace slipway;
using namespace slipway::controller;

namespace {

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
};

struct FakeKeys : KeyKeeper {
  std::map<std::string, AgentIdentity> live;
  Status admit(const std::string& key, const AgentIdentity& who) override {
    live[key] = who;
    return ok_status();
  }
  void revoke(const std::string& key, const std::string&) override { live.erase(key); }
};

const char* kBase =
    "kind: image\nname: base/host\nplatform: debian\nreference: {local: {rootfs: host}}\n";
const char* kServer = R"(kind: image
name: t/server
parent: base/host
parameters: {outputs: [port]}
scripts: {deployment: serve, report: report}
)";
const char* kClient = R"(kind: image
name: t/client
parent: base/host
parameters: {inputs: {server_port: {}}, outputs: [got]}
scripts: {deployment: fetch}
)";
const char* kPair = R"(kind: deployment
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
                                                settings);
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

}  // namespace

TEST_CASE("a deployment passes each state only when every instance completed it", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  CHECK(f.state(id) == DeploymentState::kProvisioning);
  REQUIRE(f.provisioner.launches.size() == 3);
  CHECK(f.keys.live.size() == 3);  // one key per instance, admitted before launch

  f.engine->on_launched(id, "server.1", connectors::Machine{"m", "10.0.0.1", "running"});
  CHECK(*f.param(id, "server.1:hostname") == "10.0.0.1");
  f.hello(id, "server.1");
  CHECK(f.state(id) == DeploymentState::kProvisioning);  // the clients have not called back
  f.boot_all(id);
  CHECK(f.state(id) == DeploymentState::kExecuting);

  // The server publishes its port; it reaches the clients' mapped input.
  AgentIdentity server{id, "server.1"};
  f.engine->on_message(server, proto::Set{1, "port", "8080"});
  CHECK(f.agents.replies(server.display()).at(1).code == "ok");
  CHECK(*f.param(id, "client.2:server_port") == "8080");

  f.engine->on_message(AgentIdentity{id, "client.1"}, proto::StateDone{"Executing"});
  f.engine->on_message(server, proto::StateDone{"Executing"});
  CHECK(f.state(id) == DeploymentState::kExecuting);
  f.engine->on_message(AgentIdentity{id, "client.2"}, proto::StateDone{"Executing"});
  CHECK(f.state(id) == DeploymentState::kSendingReports);
  f.finish_state(id, "SendingReports");
  CHECK(f.state(id) == DeploymentState::kReady);
  CHECK(*f.param(id, "ss:state") == "Ready");

  REQUIRE(f.engine->terminate(f.owner, id).ok());
  CHECK(f.state(id) == DeploymentState::kFinalizing);
  CHECK(f.provisioner.terminations.size() == 3);
  f.terminate_all(id);
  CHECK(f.state(id) == DeploymentState::kDone);
  CHECK(f.keys.live.empty());  // keys die with their deployment
  CHECK(f.engine->active(id) == nullptr);
}

TEST_CASE("a blocked get is answered by the set, not by polling", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  AgentIdentity client{id, "client.1"};
  f.engine->on_message(client, proto::Get{7, "server:port", 0, true});
  CHECK(f.agents.replies(client.display()).count(7) == 0);  // waiting
  f.engine->on_message(AgentIdentity{id, "server.1"}, proto::Set{1, "port", "9090"});
  auto replies = f.agents.replies(client.display());
  REQUIRE(replies.count(7));
  CHECK(replies.at(7).code == "ok");
  CHECK(replies.at(7).value == "9090");

  // --noblock on an unset value, and a get whose timeout passes.
  f.engine->on_message(client, proto::Get{8, "server:nothing", 0, false});
  CHECK(f.agents.replies(client.display()).at(8).code == "not-set");
  f.engine->on_message(client, proto::Get{9, "server:later", 2000, true});
  f.clock.advance(1999);
  f.engine->tick();
  CHECK(f.agents.replies(client.display()).count(9) == 0);
  f.clock.advance(2);
  f.engine->tick();
  CHECK(f.agents.replies(client.display()).at(9).code == "timeout");
}

TEST_CASE("an instance sets only its own parameters and reads only its deployment's", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  AgentIdentity client{id, "client.1"};
  f.engine->on_message(client, proto::Set{1, "server.1:port", "1"});
  CHECK(f.agents.replies(client.display()).at(1).code == "permission-denied");
  f.engine->on_message(client, proto::Set{2, "hostname", "evil"});
  CHECK(f.agents.replies(client.display()).at(2).code == "permission-denied");
  f.engine->on_message(client, proto::Set{3, "got", std::string(70 * 1024, 'x')});
  CHECK(f.agents.replies(client.display()).at(3).code == "invalid-argument");
  f.engine->on_message(client, proto::Set{4, "statecustom", "working"});
  CHECK(f.agents.replies(client.display()).at(4).code == "ok");
  CHECK(*f.param(id, "client.1:statecustom") == "working");
  f.engine->on_message(client, proto::Get{5, "nosuchnode:port", 0, true});
  CHECK(f.agents.replies(client.display()).at(5).code == "invalid-argument");
  f.engine->on_message(client, proto::Get{6, "client.9:got", 0, true});
  CHECK(f.agents.replies(client.display()).at(6).code == "invalid-argument");
  // Another deployment's agent cannot touch this one: its identity names its own.
  std::string other = f.deploy();
  f.boot_all(other);
  f.engine->on_message(AgentIdentity{other, "client.1"}, proto::Set{9, "got", "mine"});
  CHECK_FALSE(f.param(id, "client.1:got").has_value());
  CHECK(*f.param(other, "client.1:got") == "mine");
}

TEST_CASE("a failing script aborts with its instance and stderr line; blocked gets return aborted",
          "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  AgentIdentity client{id, "client.2"};
  f.engine->on_message(client, proto::Get{1, "server:port", 0, true});
  f.engine->on_message(client, proto::Barrier{2, "met", 0, {}, 0});
  f.engine->on_message(AgentIdentity{id, "server.1"},
                       proto::StepDone{"deployment:t/server@1", 3, "cannot bind port 8080"});
  auto d = f.engine->find(f.owner, id);
  CHECK(d->aborted);
  CHECK(d->abort_reason ==
        "server.1: deployment script of t/server@1 exited with status 3: cannot bind port 8080");
  CHECK(d->state == DeploymentState::kSendingReports);  // on to the reports
  auto replies = f.agents.replies(client.display());
  CHECK(replies.at(1).code == "aborted");
  CHECK(replies.at(2).code == "aborted");
  // New gets of unset values answer aborted at once.
  f.engine->on_message(client, proto::Get{3, "server:port", 0, true});
  CHECK(f.agents.replies(client.display()).at(3).code == "aborted");

  f.finish_state(id, "SendingReports");
  CHECK(f.state(id) == DeploymentState::kFinalizing);  // on-success: not kept after an abort
  f.terminate_all(id);
  CHECK(f.state(id) == DeploymentState::kAborted);
}

TEST_CASE("keep-running policies decide what happens in Ready", "[engine]") {
  for (auto [policy, aborted, stays] :
       std::vector<std::tuple<const char*, bool, bool>>{{"always", false, true},
                                                        {"always", true, true},
                                                        {"on-success", false, true},
                                                        {"on-success", true, false},
                                                        {"on-error", false, false},
                                                        {"on-error", true, true},
                                                        {"never", false, false}}) {
    Fixture f;
    DeployRequest r;
    r.keep_running = policy;
    std::string id = f.deploy(r);
    f.boot_all(id);
    if (aborted)
      f.engine->on_message(AgentIdentity{id, "client.1"}, proto::Abort{1, "on purpose", false});
    else
      f.finish_state(id, "Executing");
    f.finish_state(id, "SendingReports");
    INFO(policy << (aborted ? " aborted" : " ok"));
    CHECK(f.state(id) == (stays ? DeploymentState::kReady : DeploymentState::kFinalizing));
  }
}

TEST_CASE("terminating before Ready cancels the deployment", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  REQUIRE(f.engine->terminate(f.owner, id).ok());
  f.terminate_all(id);
  CHECK(f.state(id) == DeploymentState::kCancelled);
  CHECK(f.engine->terminate(f.owner, id).error().code() == Code::kFailedPrecondition);
  Caller stranger;
  stranger.uid = 4242;
  CHECK(f.engine->terminate(stranger, id).error().code() == Code::kNotFound);
}

TEST_CASE("provisioning failures within the allowance drop instances; beyond it they abort",
          "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.engine->on_launched(id, "client.2", Error(Code::kUnavailable, "no more addresses"));
  auto d = f.engine->find(f.owner, id);
  CHECK_FALSE(d->aborted);
  CHECK(d->instances.at("client.2").status == InstanceStatus::kFailed);
  CHECK(*f.param(id, "client:multiplicity") == "1");
  CHECK(*f.param(id, "client:ids") == "1");
  f.boot_all(id);
  CHECK(f.state(id) == DeploymentState::kExecuting);  // the dropped one is not waited for

  Fixture g;
  std::string id2 = g.deploy();
  g.engine->on_launched(id2, "client.1", Error(Code::kUnavailable, "boom"));
  g.engine->on_launched(id2, "client.2", Error(Code::kUnavailable, "boom again"));
  auto d2 = g.engine->find(g.owner, id2);
  CHECK(d2->aborted);
  CHECK(d2->abort_reason == "client.2 failed to provision: boom again");
}

TEST_CASE("a machine that never calls back fails at the provisioning timeout", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.engine->on_launched(id, "server.1", connectors::Machine{"m", "10.0.0.1", "running"});
  f.hello(id, "client.1");
  f.hello(id, "client.2");
  f.clock.advance(60001);
  f.engine->tick();
  auto d = f.engine->find(f.owner, id);
  CHECK(d->aborted);
  CHECK(d->abort_reason == "server.1 failed to provision: its agent did not call back within 60 s");
  // Its machine is removed with the others.
  f.finish_state(id, "SendingReports");
  CHECK(f.state(id) == DeploymentState::kFinalizing);
}

TEST_CASE("a lost agent aborts the run after Provisioning", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  f.engine->on_agent_lost(AgentIdentity{id, "client.1"});
  auto d = f.engine->find(f.owner, id);
  CHECK(d->aborted);
  CHECK(d->abort_reason == "client.1: its agent was silent for more than 30 s");
  CHECK(d->instances.at("client.1").status == InstanceStatus::kLost);
  // The lost instance is not waited for at the reports.
  f.engine->on_message(AgentIdentity{id, "server.1"}, proto::StateDone{"SendingReports"});
  f.engine->on_message(AgentIdentity{id, "client.2"}, proto::StateDone{"SendingReports"});
  CHECK(f.state(id) == DeploymentState::kFinalizing);
}

TEST_CASE("a deployment stuck in a state past its timeout aborts naming the state", "[engine]") {
  Fixture f;
  DeployRequest r;
  r.timeout_ms = 5000;
  std::string id = f.deploy(r);
  f.boot_all(id);
  f.clock.advance(5001);
  f.engine->tick();
  auto d = f.engine->find(f.owner, id);
  CHECK(d->abort_reason == "timed out after 5 s in state Executing");
  CHECK(d->state == DeploymentState::kSendingReports);
  f.clock.advance(5001);  // and the reports never come either
  f.engine->tick();
  CHECK(f.state(id) == DeploymentState::kFinalizing);
}

TEST_CASE("named barriers release everyone at once, by all, count or nodes", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  AgentIdentity s{id, "server.1"}, c1{id, "client.1"}, c2{id, "client.2"};
  f.engine->on_message(s, proto::Barrier{1, "all", 0, {}, 0});
  f.engine->on_message(c1, proto::Barrier{1, "all", 0, {}, 0});
  CHECK(f.agents.replies(s.display()).count(1) == 0);
  f.engine->on_message(c2, proto::Barrier{1, "all", 0, {}, 0});
  CHECK(f.agents.replies(s.display()).at(1).code == "ok");
  CHECK(f.agents.replies(c1.display()).at(1).code == "ok");
  CHECK(f.agents.replies(c2.display()).at(1).code == "ok");
  // Released stays released: a re-sent arrival passes at once.
  f.engine->on_message(c1, proto::Barrier{5, "all", 0, {}, 0});
  CHECK(f.agents.replies(c1.display()).at(5).code == "ok");

  f.engine->on_message(c1, proto::Barrier{2, "clients", 0, {"client"}, 0});
  CHECK(f.agents.replies(c1.display()).count(2) == 0);
  f.engine->on_message(c2, proto::Barrier{2, "clients", 0, {"client"}, 0});
  CHECK(f.agents.replies(c1.display()).at(2).code == "ok");

  f.engine->on_message(s, proto::Barrier{3, "two", 2, {}, 0});
  f.engine->on_message(c2, proto::Barrier{3, "two", 2, {}, 0});
  CHECK(f.agents.replies(s.display()).at(3).code == "ok");

  f.engine->on_message(s, proto::Barrier{4, "late", 0, {}, 1000});
  f.clock.advance(1001);
  f.engine->tick();
  CHECK(f.agents.replies(s.display()).at(4).code == "timeout");
  f.engine->on_message(s, proto::Barrier{6, "bad name!", 0, {}, 0});
  CHECK(f.agents.replies(s.display()).at(6).code == "invalid-argument");
}

TEST_CASE("barrier arrivals are stored together, and all before anyone is released", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  AgentIdentity s{id, "server.1"}, c1{id, "client.1"}, c2{id, "client.2"};
  auto stored = [&](const std::string& name) {
    auto stmt = f.store->db().prepare(
        "SELECT COUNT(*) FROM barriers WHERE deployment=? AND name=? AND instance<>''");
    REQUIRE(stmt.ok());
    stmt->bind(1, id).bind(2, name);
    REQUIRE(stmt->step().value());
    return stmt->column_int(0);
  };
  // Arrivals wait for one commit together...
  f.engine->on_message(s, proto::Barrier{1, "all", 0, {}, 0});
  f.engine->on_message(c1, proto::Barrier{1, "all", 0, {}, 0});
  CHECK(f.engine->pending_writes());
  CHECK(stored("all") == 0);
  f.engine->write_pending();
  CHECK_FALSE(f.engine->pending_writes());
  CHECK(stored("all") == 2);
  // ...but the one that releases the barrier is stored before the first answer leaves.
  std::vector<int64_t> stored_as_answered;
  f.agents.on_send = [&](const proto::ControllerMessage& m) {
    if (std::holds_alternative<proto::Reply>(m)) stored_as_answered.push_back(stored("all"));
  };
  f.engine->on_message(c2, proto::Barrier{1, "all", 0, {}, 0});
  CHECK(stored_as_answered == std::vector<int64_t>{3, 3, 3});
  f.agents.on_send = nullptr;

  // Stored arrivals outlive a restart: two arrive, the controller restarts
  // (their agents will re-send), and the third releases the barrier.
  f.engine->on_message(s, proto::Barrier{2, "again", 0, {}, 0});
  f.engine->on_message(c1, proto::Barrier{2, "again", 0, {}, 0});
  f.engine->write_pending();
  f.make_engine();
  f.hello(id, "client.2");
  f.engine->on_message(c2, proto::Barrier{2, "again", 0, {}, 0});
  CHECK(f.agents.replies(c2.display()).at(2).code == "ok");

  // An arrival that cannot be stored is undone and its instance told.
  f.engine->on_message(s, proto::Barrier{3, "lost", 0, {}, 0});
  f.engine->on_message(c1, proto::Barrier{3, "lost", 0, {}, 0});
  REQUIRE(f.store->db().exec("ALTER TABLE barriers RENAME TO barriers_away").ok());
  f.engine->write_pending();
  CHECK(f.agents.replies(s.display()).at(3).code == "io");
  CHECK(f.agents.replies(c1.display()).at(3).code == "io");
  REQUIRE(f.store->db().exec("ALTER TABLE barriers_away RENAME TO barriers").ok());
  f.engine->on_message(c2, proto::Barrier{3, "lost", 0, {}, 0});
  CHECK(f.agents.replies(c2.display()).count(3) == 0);  // the other two no longer count
  f.engine->write_pending();
  CHECK(stored("lost") == 1);
}

TEST_CASE("a restarted controller carries on with the deployments that were running", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  f.engine->on_message(AgentIdentity{id, "server.1"}, proto::Set{1, "port", "7000"});
  f.engine->on_message(AgentIdentity{id, "server.1"},
                       proto::StepDone{"deployment:t/server@1", 0, ""});
  f.engine->on_message(AgentIdentity{id, "server.1"}, proto::StateDone{"Executing"});
  f.engine->on_message(AgentIdentity{id, "client.1"}, proto::Barrier{1, "b", 2, {}, 0});
  f.engine->on_message(AgentIdentity{id, "client.2"}, proto::Barrier{1, "b", 2, {}, 0});

  f.make_engine();  // a new engine on the same store: what a restart does
  auto d = f.engine->find(f.owner, id);
  REQUIRE(d.ok());
  CHECK(d->state == DeploymentState::kExecuting);
  CHECK(d->instances.at("server.1").completed.count("deployment:t/server@1"));
  CHECK(*f.param(id, "client.1:server_port") == "7000");
  // The agent reconnects; its welcome says what was completed.
  f.agents.connected.insert(AgentIdentity{id, "server.1"}.display());
  auto welcome = f.engine->on_hello(AgentIdentity{id, "server.1"}, proto::Hello{}, "");
  REQUIRE(welcome.has_value());
  CHECK(welcome->state == "Executing");
  CHECK(welcome->completed == std::vector<std::string>{"deployment:t/server@1"});
  // A barrier released before the restart stays released.
  f.agents.connected.insert(AgentIdentity{id, "client.1"}.display());
  f.engine->on_message(AgentIdentity{id, "client.1"}, proto::Barrier{2, "b", 2, {}, 0});
  CHECK(f.agents.replies(AgentIdentity{id, "client.1"}.display()).at(2).code == "ok");
  // Mapped outputs keep flowing.
  f.engine->on_message(AgentIdentity{id, "server.1"}, proto::Set{3, "port", "7001"});
  CHECK(*f.param(id, "client.2:server_port") == "7001");
}

TEST_CASE("deploy requests are checked before anything exists", "[engine]") {
  Fixture f;
  auto plan = [&](DeployRequest r) { return plan_deployment(f.owner, r, f.catalog, f.config); };
  DeployRequest r;
  r.module = "t/nope";
  CHECK(plan(r).error().message() == "no module named t/nope");
  r.module = "t/pair";
  r.cloud = "aws";
  CHECK(plan(r).error().message() ==
        "node server: there is no cloud named aws (configured: local)");
  r.cloud = "";
  r.parameters = {"client:server_port"};
  CHECK(plan(r).error().message() == "-p client:server_port: write -p NODE:KEY=VALUE");
  r.parameters = {"db:x=1"};
  CHECK(plan(r).error().message() == "-p db:x=1: t/pair@1 has no node db");
  r.parameters = {"client:colour=red"};
  CHECK(plan(r).error().message() ==
        "-p client:colour=red: node client (t/client) has no input colour");
  r.parameters = {};
  r.multiplicities = {{"client", 0}};
  CHECK(plan(r).error().code() == Code::kInvalidArgument);
  r.multiplicities = {};
  r.keep_running = "sometimes";
  CHECK(plan(r).error().code() == Code::kUsage);
  // An image alone is a one-node deployment, and its inputs need values.
  DeployRequest single;
  single.module = "t/client";
  CHECK(plan(single).error().message() ==
        "node client: input server_port has no value; give one with -p client:server_port=VALUE");
  single.parameters = {"client:server_port=80"};
  auto ok = plan(single);
  REQUIRE(ok.ok());
  CHECK(ok->nodes.front().name == "client");
  CHECK(ok->inputs["client"]["server_port"] == "80");
  // Nothing was created by any of the refused requests.
  CHECK(f.engine->list(Caller::system())->empty());
}

TEST_CASE("a machine that comes up after its deployment gave up on it is removed", "[engine]") {
  Fixture f;
  DeployRequest r;
  r.timeout_ms = 300000;
  std::string id = f.deploy(r);
  // server.1's launch hangs in the connector; the clients boot.
  f.hello(id, "client.1");
  f.hello(id, "client.2");
  f.clock.advance(60001);
  f.engine->tick();
  REQUIRE(f.engine->find(f.owner, id)->aborted);
  f.finish_state(id, "SendingReports");
  REQUIRE(f.state(id) == DeploymentState::kFinalizing);
  f.terminate_all(id);
  // Finalizing waits for the launch in flight, until the deployment's timeout.
  CHECK(f.state(id) == DeploymentState::kFinalizing);
  f.clock.advance(300001);
  f.engine->tick();
  CHECK(f.state(id) == DeploymentState::kAborted);
  f.provisioner.terminations.clear();
  // The launch answers at last: its machine is removed, not leaked.
  f.engine->on_launched(id, "server.1", connectors::Machine{"m-late", "10.0.0.1", "running"});
  REQUIRE(f.provisioner.terminations.size() == 1);
  CHECK(f.provisioner.terminations[0].second.machine_id == "m-late");
  CHECK(f.provisioner.terminations[0].second.cloud == "local");
  // Only once.
  f.engine->on_launched(id, "server.1", connectors::Machine{"m-late", "10.0.0.1", "running"});
  CHECK(f.provisioner.terminations.size() == 1);
}

TEST_CASE("an agent may call before its machine's launch is reported", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.hello(id, "client.1");  // over the local socket, before the launcher answered
  f.engine->on_launched(id, "client.1", connectors::Machine{"m1", "10.0.0.2", "running"});
  f.engine->on_launched(id, "server.1", connectors::Machine{"m0", "10.0.0.1", "running"});
  auto d = f.engine->find(f.owner, id);
  REQUIRE(d.ok());
  const Instance& client = d->instances.at("client.1");
  CHECK(client.status == InstanceStatus::kRunning);  // the launch report takes nothing back
  CHECK(client.phase == "connected");
  CHECK(client.address == "10.0.0.2");
  CHECK(*f.param(id, "client.1:hostname") == "10.0.0.2");
  std::vector<std::string> launched;
  auto events = f.events.recent(id, 1000);
  REQUIRE(events.ok());
  for (const auto& e : *events) {
    if (e.kind == "instance.launched") launched.push_back(e.message);
  }
  CHECK(launched == std::vector<std::string>{
                        "client.1 launched on local at 10.0.0.2 (its agent had already called)",
                        "server.1 launched on local at 10.0.0.1"});
}

TEST_CASE("a failed removal is tried twice more, then reported", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  REQUIRE(f.engine->terminate(f.owner, id).ok());
  REQUIRE(f.provisioner.terminations.size() == 3);
  f.engine->on_terminated(id, "client.1", ok_status());
  f.engine->on_terminated(id, "client.2", ok_status());
  for (int attempt = 0; attempt < 3; ++attempt) {
    CHECK(f.state(id) == DeploymentState::kFinalizing);
    f.engine->on_terminated(id, "server.1", Error(Code::kUnavailable, "busy"));
  }
  CHECK(f.provisioner.terminations.size() == 5);  // two retries of server.1
  CHECK(f.state(id) == DeploymentState::kCancelled);
  bool reported = false;
  auto events = f.events.recent(id, 1000);
  REQUIRE(events.ok());
  for (const auto& e : *events) {
    if (e.kind == "instance.terminate-failed") reported = true;
  }
  CHECK(reported);
}

TEST_CASE("a damaged deployment in the store is left out; the others carry on", "[engine]") {
  Fixture f;
  std::string damaged = f.deploy();
  std::string fine = f.deploy();
  REQUIRE(f.store->db()
              .exec("UPDATE deployments SET spec = x'c1ff' WHERE id = '" + damaged + "'")
              .ok());
  f.make_engine();  // start() must not fail on it
  CHECK(f.engine->active(fine) != nullptr);
  CHECK(f.engine->active(damaged) == nullptr);
  auto listed = f.engine->list(f.owner);
  REQUIRE(listed.ok());
  CHECK(listed->size() == 1);
}

TEST_CASE("an abort reason is kept to its first thousand bytes, whole characters", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  std::string long_reason = "x" + std::string(2000, '\xc3');  // "x" then partial "é"s
  for (size_t i = 2; i < long_reason.size(); i += 2) long_reason[i] = '\xa9';
  f.engine->on_message(AgentIdentity{id, "server.1"}, proto::Abort{1, long_reason, false});
  auto d = f.engine->find(f.owner, id);
  REQUIRE(d->aborted);
  CHECK(d->abort_reason.size() <= 1100);
  CHECK(d->abort_reason.size() >= 900);
  CHECK(is_valid_utf8(d->abort_reason));
}

TEST_CASE("a get sent again after a reconnect is answered once", "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  AgentIdentity client{id, "client.1"};
  proto::Get get;
  get.id = 7;
  get.key = "server.1:port";
  get.wait = true;
  f.engine->on_message(client, get);
  f.engine->on_message(client, get);  // the same request, re-sent
  CHECK(f.engine->parameters().waits() == 1);
  f.engine->on_message(AgentIdentity{id, "server.1"}, proto::Set{1, "port", "9000"});
  int answers = 0;
  for (const auto& [to, m] : f.agents.sent) {
    if (auto* r = std::get_if<proto::Reply>(&m); r && to == client.display() && r->id == 7) {
      ++answers;
      CHECK(r->value == "9000");
    }
  }
  CHECK(answers == 1);
}
