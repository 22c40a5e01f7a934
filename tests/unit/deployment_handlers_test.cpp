// The deployment operations as slipwayd answers them, against a real
// in-memory store, catalog and engine with fake agents and clouds.
#include "controller/control/deployment_handlers.h"

#include <catch2/catch.hpp>

#include "controller/control/control_protocol.h"
#include "unit/control_fixture.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::control_test;
namespace cp = slipway::control_protocol;

namespace {

struct Handlers : engine_test::Fixture {
  FakeClouds clouds;
  DeploymentHandlers handlers{*engine, catalog, clouds, events, clock, config};

  std::shared_ptr<RecordingSink> run(void (DeploymentHandlers::*method)(const Caller&, const Value&,
                                                                        Reply),
                                     const Value& request, const Caller& caller) {
    return call(handlers, method, caller, request);
  }
  std::shared_ptr<RecordingSink> run(void (DeploymentHandlers::*method)(const Caller&, const Value&,
                                                                        Reply),
                                     const Value& request) {
    return run(method, request, owner);
  }
  Value deploy_request() {
    cp::DeployRequest request;
    request.module = "t/pair";
    return cp::encode(request);
  }
};

}  // namespace

TEST_CASE("deploy plans the module, orders its machines and answers the id", "[control]") {
  Handlers f;
  auto answer = f.run(&DeploymentHandlers::deploy, f.deploy_request());
  REQUIRE(answer->ok());
  std::string id = answer->result()["id"].str();
  CHECK(!id.empty());
  CHECK(answer->result()["module"].str().rfind("t/pair@", 0) == 0);
  CHECK(f.provisioner.launches.size() == 3);
  CHECK(f.state(id) == DeploymentState::kProvisioning);
}

TEST_CASE("deploy refuses a bad field with the sentence slipway prints", "[control]") {
  Handlers f;
  auto wrong_type = f.run(&DeploymentHandlers::deploy,
                          Value::object().set("op", "deploy").set("module", int64_t{5}));
  CHECK(wrong_type->code() == "invalid-argument");
  CHECK(wrong_type->error() == "\"module\" of a \"deploy\" request must be a string");

  auto no_module = f.run(&DeploymentHandlers::deploy, Value::object().set("op", "deploy"));
  CHECK(no_module->code() == "usage");
  CHECK(no_module->error() == "name the module to deploy");

  Value bad_count = f.deploy_request();
  bad_count.set("multiplicities", Value::object().set("client", "two"));
  auto count = f.run(&DeploymentHandlers::deploy, bad_count);
  CHECK(count->code() == "usage");
  CHECK(count->error() == "--multiplicity client must be a number");

  Value bad_timeout = f.deploy_request();
  bad_timeout.set("timeout_s", int64_t{-1});
  auto timeout = f.run(&DeploymentHandlers::deploy, bad_timeout);
  CHECK(timeout->code() == "usage");
  CHECK(timeout->error() == "--timeout must be a number of seconds (0 waits forever)");
  CHECK(f.provisioner.launches.empty());
}

TEST_CASE("deploy refuses a cloud that cannot take machines before anything exists", "[control]") {
  Handlers f;
  f.clouds.broken["local"] = "no rootfs under /var/lib/slipway";
  auto answer = f.run(&DeploymentHandlers::deploy, f.deploy_request());
  CHECK(answer->code() == "unavailable");
  CHECK(answer->error() == "cloud local is not available: no rootfs under /var/lib/slipway");
  CHECK(f.provisioner.launches.empty());
  CHECK(f.run(&DeploymentHandlers::list, cp::request(cp::kList))->result().items().empty());
}

TEST_CASE("show and list answer the owner and hide the deployment from others", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  auto shown = f.run(&DeploymentHandlers::show, cp::encode(cp::kShow, cp::IdRequest{id}));
  REQUIRE(shown->ok());
  CHECK(shown->result()["id"].str() == id);
  CHECK(shown->result()["state"].str() == "Provisioning");
  CHECK(shown->result()["events"].is_array());
  CHECK(f.run(&DeploymentHandlers::list, cp::request(cp::kList))->result().items().size() == 1);

  auto hidden =
      f.run(&DeploymentHandlers::show, cp::encode(cp::kShow, cp::IdRequest{id}), stranger());
  CHECK(hidden->code() == "not-found");
  CHECK(hidden->error() == "no deployment " + id);
  CHECK(f.run(&DeploymentHandlers::list, cp::request(cp::kList), stranger())
            ->result()
            .items()
            .empty());

  auto no_id = f.run(&DeploymentHandlers::show, Value::object().set("op", "show"));
  CHECK(no_id->code() == "invalid-argument");
  CHECK(no_id->error() == "a \"show\" request needs \"id\" (a string)");
}

TEST_CASE("get answers a set parameter at once and waits for one not yet set", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  f.engine->on_launched(id, "server.1", connectors::Machine{"m1", "10.0.0.1", "running"});
  auto now = f.run(&DeploymentHandlers::get, cp::encode(cp::GetRequest{id, "server.1:hostname"}));
  CHECK(now->result()["key"].str() == "server.1:hostname");
  CHECK(now->result()["value"].str() == "10.0.0.1");

  auto later = f.run(&DeploymentHandlers::get, cp::encode(cp::GetRequest{id, "client.1:hostname"}));
  CHECK(!later->answered());
  f.engine->on_launched(id, "client.1", connectors::Machine{"m2", "10.0.0.2", "running"});
  CHECK(later->result()["value"].str() == "10.0.0.2");

  // A caller gone away stops waiting: the value set afterwards answers nobody.
  auto gone = f.run(&DeploymentHandlers::get, cp::encode(cp::GetRequest{id, "client.2:hostname"}));
  gone->hang_up();
  f.engine->on_launched(id, "client.2", connectors::Machine{"m3", "10.0.0.3", "running"});
  CHECK(!gone->answered());

  auto bad = f.run(&DeploymentHandlers::get,
                   cp::encode(cp::GetRequest{id, "server.1:hostname"}).set("timeout_s", "soon"));
  CHECK(bad->code() == "usage");
  CHECK(bad->error() == "--timeout must be a number of seconds (0 waits forever)");
  auto hidden = f.run(&DeploymentHandlers::get, cp::encode(cp::GetRequest{id, "server.1:hostname"}),
                      stranger());
  CHECK(hidden->code() == "not-found");
}

TEST_CASE("params lists a deployment's parameters by glob", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  f.engine->on_launched(id, "server.1", connectors::Machine{"m1", "10.0.0.1", "running"});
  auto listed =
      f.run(&DeploymentHandlers::params, cp::encode(cp::ParamsRequest{id, "server.1:host*"}));
  REQUIRE(listed->result().items().size() == 1);
  CHECK(listed->result().items()[0]["value"].str() == "10.0.0.1");
  auto bad = f.run(&DeploymentHandlers::params,
                   cp::encode(cp::ParamsRequest{id}).set("glob", Value::array()));
  CHECK(bad->code() == "invalid-argument");
  CHECK(bad->error() == "\"glob\" of a \"params\" request must be a string");
}

TEST_CASE("abort and terminate act for the owner only", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  auto refused =
      f.run(&DeploymentHandlers::abort, cp::encode(cp::AbortRequest{id, "bored"}), stranger());
  CHECK(refused->code() == "not-found");
  auto aborted = f.run(&DeploymentHandlers::abort, cp::encode(cp::AbortRequest{id, "bored"}));
  CHECK(aborted->result()["id"].str() == id);
  CHECK(f.engine->find(f.owner, id)->aborted);

  auto terminated =
      f.run(&DeploymentHandlers::terminate, cp::encode(cp::kTerminate, cp::IdRequest{id}));
  CHECK(terminated->result()["id"].str() == id);
  auto unknown =
      f.run(&DeploymentHandlers::terminate, cp::encode(cp::kTerminate, cp::IdRequest{"d-none"}));
  CHECK(unknown->code() == "not-found");
}

TEST_CASE("console answers an instance's console and names an instance there is not", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  f.engine->on_launched(id, "server.1", connectors::Machine{"m1", "10.0.0.1", "running"});
  f.clouds.consoles[f.engine->find(f.owner, id)->instances.at("server.1").machine_id] = "login: ";
  auto shown = f.run(&DeploymentHandlers::console, cp::encode(cp::ConsoleRequest{id, "server.1"}));
  CHECK(shown->result()["instance"].str() == "server.1");
  CHECK(shown->result()["console"].str() == "login: ");

  auto missing = f.run(&DeploymentHandlers::console, cp::encode(cp::ConsoleRequest{id, "web.9"}));
  CHECK(missing->code() == "not-found");
  CHECK(missing->error() == "deployment " + id + " has no instance web.9");

  auto no_instance =
      f.run(&DeploymentHandlers::console, Value::object().set("op", "console").set("id", id));
  CHECK(no_instance->code() == "invalid-argument");
  CHECK(no_instance->error() == "a \"console\" request needs \"instance\" (a string)");
}

TEST_CASE("reports of a deployment with none answer zero chunks", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  auto answer = f.run(&DeploymentHandlers::reports, cp::encode(cp::kReports, cp::IdRequest{id}));
  answer->drain();
  CHECK(answer->events().empty());
  CHECK(answer->result()["chunks"].as_int() == 0);
  auto hidden =
      f.run(&DeploymentHandlers::reports, cp::encode(cp::kReports, cp::IdRequest{id}), stranger());
  CHECK(hidden->code() == "not-found");
}

TEST_CASE("reports stream in batches, each once the last is written", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  for (int i = 0; i < 20; ++i) {
    REQUIRE(f.engine->logs()
                .report_chunk(id, "server.1", "out.txt", static_cast<uint64_t>(i), "x", i == 19)
                .ok());
  }
  auto answer = f.run(&DeploymentHandlers::reports, cp::encode(cp::kReports, cp::IdRequest{id}));
  CHECK(answer->events().size() == 16);
  CHECK(!answer->answered());
  answer->drain();
  REQUIRE(answer->events().size() == 20);
  CHECK(answer->events()[0]["name"].str() == "out.txt");
  CHECK(answer->events()[19]["last"].as_bool());
  CHECK(answer->result()["chunks"].as_int() == 20);

  // A caller gone away between batches gets no more of them.
  auto gone = f.run(&DeploymentHandlers::reports, cp::encode(cp::kReports, cp::IdRequest{id}));
  gone->hang_up();
  gone->drain();
  CHECK(gone->events().size() == 16);
  CHECK(!gone->answered());
}
