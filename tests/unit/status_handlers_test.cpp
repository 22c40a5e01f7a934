// status as slipwayd answers it: a real in-memory store and engine, and an
// AgentHub listening on 127.0.0.1.
#include "controller/control/status_handlers.h"

#include <catch2/catch.hpp>

#include "controller/control/control_protocol.h"
#include "unit/control_fixture.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::control_test;
namespace cp = slipway::control_protocol;

namespace {

struct Handlers : HubFixture {
  ControllerFacts facts{clock.steady_ms(), controller_keys.public_key};
  StatusHandlers status{clock, config, *hub, *engine, clouds, facts};
};

}  // namespace

TEST_CASE("status shows the controller, its clouds and how many deployments are where",
          "[control]") {
  Handlers f;
  f.deploy();
  f.clouds.broken["local"] = "no rootfs";
  f.clock.advance(5000);
  auto answer = call(f.status, &StatusHandlers::status, f.owner, cp::request(cp::kStatus));
  const Value& s = answer->result();
  CHECK(!s["version"].str().empty());
  CHECK(s["uptime_s"].as_int() == 5);
  CHECK(s["controller_key"].str() == f.controller_keys.public_key);
  CHECK(s["agent_endpoint"].str().rfind("tcp://127.0.0.1:", 0) == 0);
  CHECK(s["agents_connected"].as_int() == 0);
  CHECK(s["deployments"]["Provisioning"].as_int() == 1);
  REQUIRE(s["clouds"].items().size() == 1);
  CHECK(s["clouds"].items()[0]["name"].str() == "local");
  CHECK(s["clouds"].items()[0]["state"].str() == "unavailable: no rootfs");
}

TEST_CASE("status counts the controller's own writes the store refused", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  f.boot_all(id);
  auto before = call(f.status, &StatusHandlers::status, f.owner, cp::request(cp::kStatus));
  CHECK(before->result()["store_failures"].as_int() == 0);
  log::Level level = log::level();
  log::set_level(log::Level::kOff);  // the failures' lines are the engine test's to read
  REQUIRE(f.store->db().exec("ALTER TABLE parameters RENAME TO parameters_away").ok());
  f.engine->on_message(AgentIdentity{id, "server.1"}, proto::Abort{1, "why", false});
  REQUIRE(f.store->db().exec("ALTER TABLE parameters_away RENAME TO parameters").ok());
  log::set_level(level);
  auto after = call(f.status, &StatusHandlers::status, f.owner, cp::request(cp::kStatus));
  CHECK(after->result()["store_failures"].as_int() == 2);
}
