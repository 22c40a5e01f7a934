// DeploymentRows (store/) and DeploymentStore (deployments/), which turns its
// rows into deployments and says what a damaged row is.
#include "controller/store/deployment_store.h"

#include "controller/deployments/deployment.h"
#include "unit/store_rows.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::store_test;

namespace {
Deployment sample(const std::string& id) {
  Deployment d;
  d.id = id;
  d.module = "t/pair@1";
  d.owner_uid = 1000;
  d.owner_name = "ann";
  d.state = DeploymentState::kExecuting;
  d.keep_running = KeepRunning::kOnError;
  d.timeout_ms = 60000;
  d.created_at = 5;
  NodePlan node;
  node.name = "web";
  node.image = "t/web@2";
  node.multiplicity = 2;
  d.nodes.push_back(node);
  Instance i;
  i.name = "web.1";
  i.node = "web";
  i.cloud = "local";
  i.machine_id = id + "-web.1";
  i.status = InstanceStatus::kRunning;
  i.completed = {"a", "b"};
  d.instances[i.name] = i;
  return d;
}
}  // namespace

TEST_CASE("a deployment and its instances come back from the store as saved", "[store]") {
  auto store = open_store();
  DeploymentStore deployments(*store);
  Deployment d = sample("d1");
  REQUIRE(deployments.insert(d).ok());
  d.state = DeploymentState::kReady;
  d.reached_ready = true;
  REQUIRE(deployments.save_state(d).ok());
  d.instances["web.1"].phase = InstancePhase::kReady;
  REQUIRE(deployments.save_instance(d.id, d.instances["web.1"]).ok());

  auto back = deployments.load("d1");
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  const Deployment& b = **back;
  CHECK(b.owner_uid == 1000);
  CHECK(b.state == DeploymentState::kReady);
  CHECK(b.reached_ready);
  CHECK(b.keep_running == KeepRunning::kOnError);
  REQUIRE(b.nodes.size() == 1);
  CHECK(b.nodes[0].multiplicity == 2);
  REQUIRE(b.instances.count("web.1"));
  CHECK(b.instances.at("web.1").status == InstanceStatus::kRunning);
  CHECK(b.instances.at("web.1").phase == InstancePhase::kReady);
  CHECK(b.instances.at("web.1").completed == std::set<std::string>{"a", "b"});

  DeploymentRows rows(*store);
  auto counts = rows.count_by_state();
  REQUIRE(counts.ok());
  CHECK(counts->at("Ready") == 1);
  CHECK(rows.active()->size() == 1);
  CHECK(rows.of_owner(1000)->size() == 1);
  CHECK(rows.of_owner(1)->empty());
}

TEST_CASE("a deployment that is not stored is no row, and no error", "[store]") {
  auto store = open_store();
  DeploymentRows rows(*store);
  auto none = rows.find("nope");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  CHECK(rows.instances("nope")->empty());
  CHECK(rows.active()->empty());
  DeploymentStore deployments(*store);
  auto loaded = deployments.load("nope");
  REQUIRE(loaded.ok());
  CHECK_FALSE(loaded->has_value());
  // Saving what is not stored changes nothing.
  CHECK(deployments.save_state(sample("nope")).ok());
  CHECK(rows.count_by_state()->empty());
}

TEST_CASE("a damaged deployment row is an error naming it, and left out of lists", "[store]") {
  auto store = open_store();
  DeploymentStore deployments(*store);
  REQUIRE(deployments.insert(sample("good")).ok());
  const char* damages[] = {
      "UPDATE deployments SET state='Sleeping' WHERE id='bad'",
      "UPDATE deployments SET keep_running='sometimes' WHERE id='bad'",
      "UPDATE deployments SET spec=x'c1ff' WHERE id='bad'",
      "UPDATE instances SET status='dozing' WHERE deployment='bad'",
  };
  for (const char* damage : damages) {
    CAPTURE(damage);
    REQUIRE(deployments.insert(sample("bad")).ok());
    exec(*store, damage);
    auto loaded = deployments.load("bad");
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().code() == Code::kInternal);
    CHECK(loaded.error().message().find("deployment bad") != std::string::npos);
    auto active = deployments.load_active();
    REQUIRE(active.ok());
    REQUIRE(active->size() == 1);
    CHECK(active->front().id == "good");
    CHECK(deployments.list(-1)->size() == 1);
    exec(*store, "DELETE FROM deployments WHERE id='bad'");
  }
}

TEST_CASE("a stored text that names no state, policy or status is an error", "[store]") {
  CHECK(parse_state("Ready").value() == DeploymentState::kReady);
  CHECK(parse_keep_running("never").value() == KeepRunning::kNever);
  CHECK(parse_status("lost").value() == InstanceStatus::kLost);
  for (const auto& bad : {parse_state("ready").ok(), parse_state("").ok(),
                          parse_keep_running("Never").ok(), parse_status("gone").ok()}) {
    CHECK_FALSE(bad);
  }
  auto error = parse_state("Sleeping");
  REQUIRE_FALSE(error.ok());
  CHECK(error.error().code() == Code::kInvalidArgument);
  CHECK(error.error().message().find("Sleeping") != std::string::npos);
}

TEST_CASE("instance phases read back from their names, and nothing else does", "[store]") {
  for (int i = 0; i <= static_cast<int>(InstancePhase::kDropped); ++i) {
    auto phase = static_cast<InstancePhase>(i);
    CHECK(parse_phase(phase_name(phase)).value() == phase);
  }
  CHECK(phase_name(InstancePhase::kNone) == std::string());
  CHECK_FALSE(parse_phase("installing").ok());
  CHECK_FALSE(parse_phase("Ready").ok());
}
