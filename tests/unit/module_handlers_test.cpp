// The module operations as slipwayd answers them, against a real in-memory
// store and catalog.
#include "controller/control/module_handlers.h"

#include <catch2/catch.hpp>

#include "controller/control/control_protocol.h"
#include "unit/control_fixture.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::control_test;
namespace cp = slipway::control_protocol;

namespace {

constexpr const char* kTool = "kind: image\nname: t/tool\nparent: base/host\n";

struct Handlers : engine_test::Fixture {
  ModuleHandlers handlers{catalog, events};

  std::shared_ptr<RecordingSink> run(void (ModuleHandlers::*method)(const Caller&, const Value&,
                                                                    Reply),
                                     const Value& request, const Caller& caller) {
    return call(handlers, method, caller, request);
  }
  std::shared_ptr<RecordingSink> run(void (ModuleHandlers::*method)(const Caller&, const Value&,
                                                                    Reply),
                                     const Value& request) {
    return run(method, request, owner);
  }
  size_t events_of(const std::string& kind) {
    auto recent = events.recent("", 100);
    REQUIRE(recent.ok());
    size_t n = 0;
    for (const auto& e : *recent) n += e.kind == kind;
    return n;
  }
};

}  // namespace

TEST_CASE("module.push makes a version once and records it", "[control]") {
  Handlers f;
  cp::PushRequest push{{{"tool.yaml", kTool}}};
  auto first = f.run(&ModuleHandlers::push, cp::encode(push));
  REQUIRE(first->result().items().size() == 1);
  CHECK(first->result().items()[0]["name"].str() == "t/tool");
  CHECK(first->result().items()[0]["created"].as_bool());
  CHECK(f.events_of("module.pushed") == 1);

  auto again = f.run(&ModuleHandlers::push, cp::encode(push));
  CHECK(!again->result().items()[0]["created"].as_bool());
  CHECK(f.events_of("module.pushed") == 1);

  auto no_files = f.run(&ModuleHandlers::push, Value::object().set("op", "module.push"));
  CHECK(no_files->code() == "invalid-argument");
  CHECK(no_files->error() == "a \"module.push\" request needs \"files\" (an array)");
  auto bad_file = f.run(&ModuleHandlers::push,
                        Value::object()
                            .set("op", "module.push")
                            .set("files", Value::array().push(Value::object().set("path", "x"))));
  CHECK(bad_file->code() == "invalid-argument");
}

TEST_CASE("module.show and module.versions hide a private module from others", "[control]") {
  Handlers f;
  auto shown =
      f.run(&ModuleHandlers::show, cp::encode(cp::kModuleShow, cp::ModuleRequest{"t/pair"}));
  CHECK(shown->result()["name"].str() == "t/pair");
  CHECK(shown->result()["visibility"].str() == "private");
  CHECK(shown->result()["kind"].str() == "deployment");
  CHECK(!shown->result()["content"].str().empty());

  auto hidden = f.run(&ModuleHandlers::show,
                      cp::encode(cp::kModuleShow, cp::ModuleRequest{"t/pair"}), stranger());
  CHECK(hidden->code() == "not-found");
  auto versions = f.run(&ModuleHandlers::versions,
                        cp::encode(cp::kModuleVersions, cp::NameRequest{"t/pair"}), stranger());
  CHECK(versions->code() == "not-found");
  CHECK(versions->error() == "no module named t/pair");
  CHECK(f.run(&ModuleHandlers::versions, cp::encode(cp::kModuleVersions, cp::NameRequest{"t/pair"}))
            ->result()
            .items()
            .size() == 1);

  auto bad =
      f.run(&ModuleHandlers::show, Value::object().set("op", "module.show").set("module", true));
  CHECK(bad->code() == "invalid-argument");
  CHECK(bad->error() == "\"module\" of a \"module.show\" request must be a string");
}

TEST_CASE("module.share opens a module to all, who still may not remove it", "[control]") {
  Handlers f;
  auto shared =
      f.run(&ModuleHandlers::share, cp::encode(cp::ShareRequest{"t/server", "public", ""}));
  CHECK(shared->result()["visibility"].str() == "public");
  auto listed = f.run(&ModuleHandlers::list, cp::request(cp::kModuleList), stranger());
  std::vector<std::string> names;
  for (const auto& m : listed->result().items()) names.push_back(m["name"].str());
  CHECK(std::count(names.begin(), names.end(), "t/server") == 1);
  CHECK(std::count(names.begin(), names.end(), "t/pair") == 0);

  auto refused = f.run(&ModuleHandlers::remove,
                       cp::encode(cp::kModuleRm, cp::ModuleRequest{"t/server"}), stranger());
  CHECK(refused->code() == "permission-denied");
  CHECK(refused->error() == "module t/server belongs to alice");
  auto not_shared = f.run(&ModuleHandlers::share,
                          cp::encode(cp::ShareRequest{"t/server", "public", ""}), stranger());
  CHECK(not_shared->code() == "permission-denied");
  auto bad =
      f.run(&ModuleHandlers::share, cp::encode(cp::ShareRequest{"t/server", "everyone", ""}));
  CHECK(bad->code() == "usage");
  CHECK(bad->error() == "share with --public, --group GROUP or --private");
}

TEST_CASE("module.rm removes an unused module and records it", "[control]") {
  Handlers f;
  REQUIRE(f.run(&ModuleHandlers::push, cp::encode(cp::PushRequest{{{"tool.yaml", kTool}}}))->ok());
  auto removed =
      f.run(&ModuleHandlers::remove, cp::encode(cp::kModuleRm, cp::ModuleRequest{"t/tool"}));
  REQUIRE(removed->result()["removed"].items().size() == 1);
  CHECK(removed->result()["removed"].items()[0].str() == "t/tool@1");
  CHECK(f.events_of("module.removed") == 1);
  auto used =
      f.run(&ModuleHandlers::remove, cp::encode(cp::kModuleRm, cp::ModuleRequest{"t/server"}));
  CHECK(used->code() == "failed-precondition");
  auto gone =
      f.run(&ModuleHandlers::remove, cp::encode(cp::kModuleRm, cp::ModuleRequest{"t/tool"}));
  CHECK(gone->code() == "not-found");
}
