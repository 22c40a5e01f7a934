// The deployment state machine, driven through its injected interfaces: no
// sockets, no machines, no sleeps. Time moves with a ManualClock. States,
// provisioning, timeouts, restarts; parameters and barriers are in
// engine_coordination_test.cpp.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>

#include "common/log.h"
#include "support/temp_dir.h"
#include "unit/engine_fixture.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::engine_test;

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

TEST_CASE("provisioning failures within the allowance drop instances, beyond it they abort",
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
  CHECK(client.phase == InstancePhase::kConnected);
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

TEST_CASE("a damaged deployment in the store is left out, the others carry on", "[engine]") {
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

namespace {
// What the code under test writes to stderr at level `level`, while `run` runs.
std::string stderr_of(log::Level level, const std::function<void()>& run) {
  test::TempDir dir;
  std::string path = dir.path() + "/stderr";
  int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(file >= 0);
  int saved = ::dup(2);
  ::dup2(file, 2);
  ::close(file);
  log::Level before = log::level();
  log::set_level(level);
  run();
  log::set_level(before);
  ::dup2(saved, 2);
  ::close(saved);
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST_CASE("an own write the store refuses is logged and counted, and the deployment goes on",
          "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  CHECK(f.engine->store_failures() == 0);
  REQUIRE(f.store->db().exec("ALTER TABLE parameters RENAME TO parameters_away").ok());
  std::string logged = stderr_of(log::Level::kError, [&] {
    f.engine->on_message(AgentIdentity{id, "server.1"}, proto::Abort{1, "why", false});
  });
  REQUIRE(f.store->db().exec("ALTER TABLE parameters_away RENAME TO parameters").ok());
  // ss:abort and then ss:state (SendingReports) were not stored...
  CHECK(f.engine->store_failures() == 2);
  CHECK(logged.find("deployment " + id + ": ss:abort=server.1: why is not stored") !=
        std::string::npos);
  CHECK(logged.find("deployment " + id + ": ss:state=SendingReports is not stored") !=
        std::string::npos);
  // ...but they are in effect, and the run carries on.
  CHECK(f.engine->parameters().get(id, "ss:abort") == std::optional<std::string>("server.1: why"));
  CHECK(f.engine->active(id)->state == DeploymentState::kSendingReports);
}

TEST_CASE(
    "a started step sets its instance's phase by its kind, and an unknown kind changes nothing",
    "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  f.boot_all(id);
  AgentIdentity server{id, "server.1"};
  auto phase = [&] { return f.engine->active(id)->instances.at("server.1").phase; };
  f.engine->on_message(server, proto::StepStarted{"deployment:t/server@1"});
  CHECK(phase() == InstancePhase::kDeployment);
  f.engine->on_message(server, proto::StepStarted{"on-scale#2:t/server@1"});
  CHECK(phase() == InstancePhase::kOnScale);
  f.engine->on_message(server, proto::StepStarted{"packages"});
  CHECK(phase() == InstancePhase::kPackages);
  for (const std::string& odd :
       {std::string("terminating:x"), std::string(), std::string(100000, 'x')}) {
    f.engine->on_message(server, proto::StepStarted{odd});
    CHECK(phase() == InstancePhase::kPackages);
  }
}
