// image.build, image.list and image.rm as slipwayd answers them, against a
// real in-memory store, catalog and engine, with fake clouds.
#include "controller/control/image_handlers.h"

#include <catch2/catch.hpp>

#include "common/fs.h"
#include "controller/control/control_protocol.h"
#include "unit/control_fixture.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::control_test;
namespace cp = slipway::control_protocol;

namespace {

struct Handlers : engine_test::Fixture {
  FakeClouds clouds;
  ImageHandlers handlers{*engine, catalog, builds, clouds, events, config};

  using Method = void (ImageHandlers::*)(const Caller&, const Value&, Reply);
  std::shared_ptr<RecordingSink> run(Method method, const std::string& op, const std::string& name,
                                     const Caller& caller, const std::string& cloud = "") {
    return call(handlers, method, caller, cp::encode(cp::ImageRequest{op, name, cloud}));
  }
  std::shared_ptr<RecordingSink> build(const std::string& name, const Caller& caller,
                                       const std::string& cloud = "") {
    return run(&ImageHandlers::build, std::string(cp::kImageBuild), name, caller, cloud);
  }
  std::shared_ptr<RecordingSink> list(const std::string& name, const Caller& caller) {
    return run(&ImageHandlers::list, std::string(cp::kImageList), name, caller);
  }
  std::shared_ptr<RecordingSink> rm(const std::string& name, const Caller& caller,
                                    const std::string& cloud = "") {
    return run(&ImageHandlers::remove, std::string(cp::kImageRm), name, caller, cloud);
  }
  void share_server() { REQUIRE(catalog.share(owner, "t/server", Visibility::kPublic, "").ok()); }
  // The states image.list shows, in its order.
  std::vector<std::string> states(const std::string& name, const Caller& caller) {
    std::vector<std::string> out;
    auto listed = list(name, caller);
    for (const auto& b : listed->result().items()) out.push_back(b["state"].str());
    return out;
  }
};

}  // namespace

TEST_CASE("image.build starts a run that builds the image and answers with it", "[control]") {
  Handlers f;
  auto started = f.build("t/server", f.owner);
  const Value& result = started->result();
  CHECK(result["image"].str() == "t/server@1");
  CHECK(result["cloud"].str() == "local");
  CHECK(result["base"].str() == "");
  const std::string id = result["id"].str();
  CHECK(f.state(id) == DeploymentState::kProvisioning);
  CHECK(f.provisioner.launches.size() == 1);

  auto b = f.builds.find(result["build"].str()).value();
  REQUIRE(b);
  CHECK(b->state == BuildState::kBuilding);
  CHECK(b->deployment == id);
  CHECK(f.engine->find(f.owner, id)->nodes.front().builds == b->id);

  // A second build of the same image and cloud waits for the first.
  auto again = f.build("t/server", f.owner);
  CHECK(again->code() == "already-exists");
  CHECK_THAT(again->error(), Catch::Contains(id));
  CHECK(f.provisioner.launches.size() == 1);
}

TEST_CASE("only the owner of an image or an admin may build it or remove its builds", "[control]") {
  Handlers f;
  // A module the caller cannot see is not found, as everywhere.
  CHECK(f.build("t/server", stranger())->code() == "not-found");

  f.share_server();
  auto refused = f.build("t/server", stranger());
  CHECK(refused->code() == "permission-denied");
  CHECK_THAT(refused->error(), Catch::Contains("alice"));
  CHECK(f.provisioner.launches.empty());
  CHECK(f.builds.list("").value().empty());
  CHECK(f.rm("t/server", stranger())->code() == "permission-denied");

  auto by_admin = f.build("t/server", admin());
  CHECK(by_admin->ok());
}

TEST_CASE("image.build refuses a cloud that cannot snapshot before anything exists", "[control]") {
  Handlers f;
  f.clouds.cannot_snapshot.insert("local");
  auto refused = f.build("t/server", f.owner);
  CHECK(refused->code() == "failed-precondition");
  CHECK_THAT(refused->error(), Catch::Contains("cannot snapshot"));
  CHECK(f.provisioner.launches.empty());
  CHECK(f.engine->list(f.owner).value().empty());
  CHECK(f.builds.list("").value().empty());
  CHECK_FALSE((fs::exists(f.builds.root()) && !fs::list_dir(f.builds.root()).value().empty()));

  // Nor does an unknown cloud, a deployment module or a reference image make anything.
  CHECK(f.build("t/server", f.owner, "nowhere")->code() == "not-found");
  CHECK(f.build("t/pair", f.owner)->code() == "invalid-argument");
  CHECK(f.build("base/host", admin())->code() == "invalid-argument");
  CHECK(f.provisioner.launches.empty());
}

TEST_CASE("image.list shows each build's state, and stale once the image asks otherwise",
          "[control]") {
  Handlers f;
  CHECK(f.list("", f.owner)->result().items().empty());
  auto started = f.build("t/server", f.owner);
  const std::string build = started->result()["build"].str();
  CHECK(f.states("t/server", f.owner) == std::vector<std::string>{"building"});

  REQUIRE(f.builds.ready(build, Value::object().set("rootfs", "r"), 1 << 20).ok());
  auto shown = f.list("", f.owner);
  REQUIRE(shown->result().items().size() == 1);
  const Value& b = shown->result().items()[0];
  CHECK(b["state"].str() == "ready");
  CHECK(b["image"].str() == "t/server@1");
  CHECK(b["cloud"].str() == "local");
  CHECK(b["size_bytes"].as_int() == 1 << 20);
  CHECK(b["deployment"].str() == started->result()["id"].str());

  // A new version that only changes the description keeps it ready...
  REQUIRE(
      f.catalog.push(f.owner, {{"s", std::string(engine_test::kServer) + "description: again\n"}})
          .ok());
  CHECK(f.states("t/server", f.owner) == std::vector<std::string>{"ready"});
  // ...one that changes the post-install makes it stale.
  std::string changed = engine_test::kServer;
  changed.replace(changed.find("deployment: serve"), 17,
                  "deployment: serve, post-install: apt-get clean");
  REQUIRE(f.catalog.push(f.owner, {{"s", changed}}).ok());
  CHECK(f.states("t/server", f.owner) == std::vector<std::string>{"stale"});

  // Someone who cannot see the image sees none of its builds.
  CHECK(f.list("", stranger())->result().items().empty());
  CHECK(f.list("t/server", stranger())->code() == "not-found");
}

TEST_CASE("image.rm removes the builds that are not running, with their files", "[control]") {
  Handlers f;
  auto started = f.build("t/server", f.owner);
  const std::string id = started->result()["build"].str();
  auto b = f.builds.find(id).value();
  REQUIRE(b);

  auto running = f.rm("t/server", f.owner);
  CHECK(running->code() == "failed-precondition");
  CHECK(fs::exists(b->dir));

  REQUIRE(f.builds.ready(id, Value::object().set("rootfs", "r"), 4096).ok());
  CHECK(f.rm("t/server", f.owner, "elsewhere")->code() == "not-found");
  auto removed = f.rm("t/server", f.owner);
  CHECK(removed->result()["removed"].items().size() == 1);
  CHECK(removed->result()["removed"].items()[0].str() == id);
  CHECK(removed->result()["freed_bytes"].as_int() == 4096);
  CHECK_FALSE(fs::exists(b->dir));
  CHECK(f.list("t/server", f.owner)->result().items().empty());
  CHECK(f.rm("t/server", f.owner)->code() == "not-found");
}
