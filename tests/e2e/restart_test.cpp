// A controller killed at any moment loses nothing it acknowledged: running
// deployments carry on when their agents reconnect, and what runs that are
// over left behind is removed at the next start.
#include <catch2/catch.hpp>

#include "controller/store/store.h"
#include "support/deploy_harness.h"

using namespace slipway;
using namespace slipway::test;

namespace {

constexpr const char* kPatient = R"yaml(
kind: image
name: e2e/patient
parent: base/host
parameters: {outputs: [outside, echoed]}
scripts:
  deployment: |
    ss-display "waiting for someone outside"
    v=$(ss-get --timeout 0 outside)
    ss-set echoed "$v"
)yaml";

// Polls `slipway show` until `instance` is in phase `phase`.
bool reaches_phase(DeployHarness& h, const std::string& id, const std::string& instance,
                   const std::string& statecustom) {
  return eventually(
      [&] {
        Value shown = h.show(id);
        for (const auto& i : shown["instances_detail"].items()) {
          if (i["name"].str() == instance && i["statecustom"].str() == statecustom) return true;
        }
        return false;
      },
      60000);
}

}  // namespace

TEST_CASE("a deployment carries on after its controller is killed and started again",
          "[e2e][local]") {
  SKIP_WITHOUT_ROOT();
  DeployHarness h;
  h.start();
  h.push(kPatient);
  std::string id = h.deploy({"e2e/patient"});
  REQUIRE(reaches_phase(h, id, "patient.1", "waiting for someone outside"));

  h.restart_after_crash();
  // The value is set only now, through the new controller; the agent's
  // blocked ss-get was re-sent when it reconnected.
  Output set = h.cli({"set", id, "patient.1:outside", "hello again"});
  INFO(set.err);
  REQUIRE(set.status == 0);
  Output wait = h.cli({"wait", id, "--timeout", "60"});
  INFO(wait.err << read_text(h.log()));
  CHECK(wait.status == 0);
  CHECK(h.param(id, "patient.1:echoed") == "hello again");
  CHECK(h.terminate_and_wait(id) == "Done");
  CHECK(h.leftovers_text() == "");
}

TEST_CASE("a controller started after a crash removes the machines of runs that are over",
          "[e2e][local]") {
  SKIP_WITHOUT_ROOT();
  DeployHarness h;
  h.start();
  h.push(kPatient);
  std::string id = h.deploy({"e2e/patient"});
  REQUIRE(reaches_phase(h, id, "patient.1", "waiting for someone outside"));
  h.kill();
  CHECK(h.leftovers_text() != "");  // the machine outlives its controller
  {
    // What the store says decides: this run is over.
    auto store = controller::Store::open(h.dir() + "/data/slipway.db");
    REQUIRE(store.ok());
    REQUIRE(
        (*store)->db().exec("UPDATE deployments SET state='Aborted' WHERE id='" + id + "'").ok());
  }
  h.start();
  CHECK(eventually([&] { return h.leftovers_text().empty(); }, 20000));
  INFO(h.leftovers_text());
  CHECK(h.leftovers_text() == "");
}
