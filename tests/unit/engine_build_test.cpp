// A build's run in the deployment engine (engine_builds.cpp), driven through
// the engine fixture: its one machine runs the image's install steps, is
// made an image once the run is Ready, and the answer decides whether the
// build is ready and the run Done, or the run aborts and the build failed.
#include <catch2/catch.hpp>

#include "common/fs.h"
#include "unit/engine_fixture.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::engine_test;

namespace {

struct BuildRun {
  std::string id;    // the deployment
  ImageBuild build;  // as begun
  NodePlan node;     // the build's one node
};

// Starts a build of t/server on the default cloud, as image.build does.
BuildRun start_build(Fixture& f) {
  auto plan = plan_build(f.owner, "t/server", "", f.catalog, f.config, f.builds);
  INFO((plan.ok() ? "" : plan.error().message()));
  REQUIRE(plan.ok());
  REQUIRE(plan->plan.nodes.size() == 1);
  NodePlan& node = plan->plan.nodes.front();
  auto build = f.builds.begin(plan->chain, node.cloud, plan->base);
  REQUIRE(build.ok());
  node.builds = build->id;
  auto id = f.engine->create(f.owner, plan->plan);
  REQUIRE(id.ok());
  REQUIRE(f.builds.attach(build->id, *id).ok());
  return BuildRun{*id, *build, node};
}

// The machine comes up, its agent runs every step and every state.
void run_to_ready(Fixture& f, const BuildRun& run) {
  f.boot_all(run.id);
  REQUIRE(f.state(run.id) == DeploymentState::kExecuting);
  AgentIdentity agent{run.id, "server.1"};
  for (const auto& step : run.node.plan.steps)
    f.engine->on_message(agent, proto::StepDone{step.id, 0, ""});
  f.finish_state(run.id, "Executing");
  f.finish_state(run.id, "SendingReports");
}

ImageBuild build_of(Fixture& f, const BuildRun& run) {
  auto b = f.builds.find(run.build.id);
  REQUIRE(b.ok());
  REQUIRE(*b);
  return **b;
}

Instance instance_of(Fixture& f, const BuildRun& run) {
  return f.engine->find(f.owner, run.id)->instances.at("server.1");
}

}  // namespace

TEST_CASE("a build's machine runs the install steps and a sync, and nothing of a deployment",
          "[engine][image-builds]") {
  Fixture f;
  BuildRun run = start_build(f);
  CHECK(run.node.builds == run.build.id);
  REQUIRE(f.provisioner.launches.size() == 1);
  f.engine->on_launched(run.id, "server.1", connectors::Machine{"m-1", "10.0.0.1", "running"});
  AgentIdentity who{run.id, "server.1"};
  f.agents.connected.insert(who.display());
  auto welcome = f.engine->on_hello(who, proto::Hello{"test", "server.1", {}}, "10.9.9.9");
  REQUIRE(welcome.has_value());
  REQUIRE_FALSE(welcome->plan.steps.empty());
  CHECK(welcome->plan.steps.back().id == "post-install:sync:t/server@1");
  for (const auto& step : welcome->plan.steps) {
    INFO(step.id);
    CHECK(step.name != "deployment");
    CHECK(step.name != "report");
  }
}

TEST_CASE("a build's run is made an image once Ready, then the build is ready and the run Done",
          "[engine][image-builds]") {
  Fixture f;
  BuildRun run = start_build(f);
  run_to_ready(f, run);

  CHECK(f.state(run.id) == DeploymentState::kReady);
  REQUIRE(f.provisioner.snapshots.size() == 1);
  const auto& [deployment, order] = f.provisioner.snapshots.front();
  CHECK(deployment == run.id);
  CHECK(order.instance == "server.1");
  CHECK(order.cloud == run.node.cloud);
  CHECK(order.request.dir == run.build.dir);
  CHECK(order.request.reference == run.node.reference);
  CHECK(order.request.reference == Value::object().set("rootfs", "host"));
  CHECK(order.request.machine_id == f.provisioner.launches.front().second.spec.machine_id);
  CHECK(instance_of(f, run).phase == InstancePhase::kSnapshotting);
  CHECK(f.provisioner.terminations.empty());  // the machine is not removed under the snapshot
  CHECK(build_of(f, run).state == BuildState::kBuilding);

  // More messages while the snapshot is made ask for no second one.
  f.finish_state(run.id, "SendingReports");
  f.clock.advance(5000);
  CHECK(f.provisioner.snapshots.size() == 1);

  Value image = Value::object().set("rootfs", run.build.dir + "/rootfs");
  f.engine->on_snapshotted(run.id, "server.1", Snapshot{image, int64_t{3} << 20});
  ImageBuild built = build_of(f, run);
  CHECK(built.state == BuildState::kReady);
  CHECK(built.reference == image);
  CHECK(built.size_bytes == int64_t{3} << 20);
  CHECK(built.deployment == run.id);
  CHECK(f.state(run.id) == DeploymentState::kFinalizing);
  CHECK(f.provisioner.terminations.size() == 1);
  CHECK(f.provisioner.snapshots.size() == 1);

  f.terminate_all(run.id);
  CHECK(f.state(run.id) == DeploymentState::kDone);
  CHECK(build_of(f, run).state == BuildState::kReady);  // the end of the run keeps it
  CHECK(fs::exists(run.build.dir));

  // A deployment of the image now boots the build and skips what it holds.
  DeployRequest request;
  request.module = "t/server";
  auto plan = plan_deployment(f.owner, request, f.catalog, f.config, &f.builds);
  REQUIRE(plan.ok());
  CHECK(plan->nodes.front().boots_build == run.build.id);
  CHECK(plan->nodes.front().reference == image);
}

TEST_CASE("a snapshot that fails aborts the build's run with the reason, and the build failed",
          "[engine][image-builds]") {
  Fixture f;
  BuildRun run = start_build(f);
  run_to_ready(f, run);
  REQUIRE(f.provisioner.snapshots.size() == 1);

  f.engine->on_snapshotted(run.id, "server.1", Error(Code::kIo, "no space left on device"));
  auto d = f.engine->find(f.owner, run.id);
  REQUIRE(d.ok());
  CHECK(d->aborted);
  CHECK_THAT(d->abort_reason, Catch::Contains("no space left on device"));
  CHECK(d->state == DeploymentState::kFinalizing);
  CHECK(f.provisioner.terminations.size() == 1);

  f.terminate_all(run.id);
  CHECK(f.state(run.id) == DeploymentState::kAborted);
  ImageBuild failed = build_of(f, run);
  CHECK(failed.state == BuildState::kFailed);
  CHECK_THAT(failed.error, Catch::Contains("no space left on device"));
  CHECK_FALSE(fs::exists(run.build.dir));
  CHECK(f.provisioner.snapshots.size() == 1);
}

TEST_CASE("a build's agent going away while its machine is snapshotted aborts nothing",
          "[engine][image-builds]") {
  Fixture f;
  BuildRun run = start_build(f);
  run_to_ready(f, run);
  REQUIRE(f.provisioner.snapshots.size() == 1);

  f.engine->on_agent_lost(AgentIdentity{run.id, "server.1"});
  auto d = f.engine->find(f.owner, run.id);
  CHECK_FALSE(d->aborted);
  CHECK(d->state == DeploymentState::kReady);
  CHECK(d->instances.at("server.1").status == InstanceStatus::kRunning);
  CHECK(f.provisioner.terminations.empty());

  f.engine->on_snapshotted(run.id, "server.1", Snapshot{Value::object().set("rootfs", "r"), 1});
  f.terminate_all(run.id);
  CHECK(f.state(run.id) == DeploymentState::kDone);
  CHECK(build_of(f, run).state == BuildState::kReady);
}

TEST_CASE("a build's run that fails before Ready is never snapshotted and its build failed",
          "[engine][image-builds]") {
  Fixture f;
  BuildRun run = start_build(f);
  f.boot_all(run.id);
  f.engine->on_message(AgentIdentity{run.id, "server.1"},
                       proto::StepDone{run.node.plan.steps.back().id, 1, "sync: I/O error"});
  f.finish_state(run.id, "SendingReports");
  REQUIRE(f.state(run.id) == DeploymentState::kFinalizing);
  f.terminate_all(run.id);
  CHECK(f.state(run.id) == DeploymentState::kAborted);
  CHECK(f.provisioner.snapshots.empty());
  ImageBuild failed = build_of(f, run);
  CHECK(failed.state == BuildState::kFailed);
  // The step and its last stderr line, as `image list` shows them.
  CHECK_THAT(failed.error, Catch::Contains("post-install script of t/server@1"));
  CHECK_THAT(failed.error, Catch::Contains("sync: I/O error"));
  CHECK_FALSE(fs::exists(run.build.dir));
}

TEST_CASE("a build's run found snapshotting after a restart aborts, and the build failed",
          "[engine][image-builds]") {
  Fixture f;
  BuildRun run = start_build(f);
  run_to_ready(f, run);
  REQUIRE(f.provisioner.snapshots.size() == 1);

  f.make_engine();  // the controller restarts before the connector answered
  auto d = f.engine->find(f.owner, run.id);
  REQUIRE(d.ok());
  CHECK(d->aborted);
  CHECK_THAT(d->abort_reason, Catch::Contains("snapshotted"));
  CHECK(f.provisioner.snapshots.size() == 1);  // no second snapshot of what is left

  f.terminate_all(run.id);
  CHECK(f.state(run.id) == DeploymentState::kAborted);
  CHECK(build_of(f, run).state == BuildState::kFailed);
}

TEST_CASE("a build made ready before a restart lets its run finalize to Done",
          "[engine][image-builds]") {
  Fixture f;
  BuildRun run = start_build(f);
  run_to_ready(f, run);
  f.engine->on_snapshotted(run.id, "server.1", Snapshot{Value::object().set("rootfs", "r"), 1});
  REQUIRE(build_of(f, run).state == BuildState::kReady);

  f.make_engine();
  f.terminate_all(run.id);
  CHECK(f.state(run.id) == DeploymentState::kDone);
  CHECK(build_of(f, run).state == BuildState::kReady);
}

TEST_CASE("a build's run terminated during its snapshot waits for it, then keeps no image",
          "[engine][image-builds]") {
  Fixture f;
  BuildRun run = start_build(f);
  run_to_ready(f, run);
  REQUIRE(f.provisioner.snapshots.size() == 1);

  REQUIRE(f.engine->terminate(f.owner, run.id).ok());
  // The machine is not removed under the connector while it snapshots.
  CHECK(f.provisioner.terminations.empty());
  CHECK(f.engine->active(run.id) != nullptr);
  // Its answer makes nothing of the cancelled build; then the machine goes.
  f.engine->on_snapshotted(run.id, "server.1", Snapshot{Value::object().set("rootfs", "r"), 1});
  REQUIRE(f.provisioner.terminations.size() == 1);
  f.terminate_all(run.id);
  CHECK(f.engine->active(run.id) == nullptr);
  CHECK(build_of(f, run).state == BuildState::kFailed);
  CHECK_FALSE(fs::exists(run.build.dir));
  // The next build is not refused: none runs.
  auto again = plan_build(f.owner, "t/server", "", f.catalog, f.config, f.builds);
  REQUIRE(again.ok());
  CHECK(f.builds.begin(again->chain, run.node.cloud, again->base).ok());
}

TEST_CASE("a build needs no values for its image's inputs: no deployment script runs",
          "[engine][image-builds]") {
  Fixture f;
  // t/client's server_port has no default: a deployment of it is refused
  // without -p, a build of it is not, and the input stays unset.
  DeployRequest deploy;
  deploy.module = "t/client";
  CHECK_FALSE(plan_deployment(f.owner, deploy, f.catalog, f.config).ok());
  auto build = plan_build(f.owner, "t/client", "", f.catalog, f.config, f.builds);
  INFO((build.ok() ? "" : build.error().message()));
  REQUIRE(build.ok());
  CHECK(build->plan.inputs["client"].count("server_port") == 0);
}
