// watch, logs and events as slipwayd streams them: the engine's notices
// are posted to an io_context the test polls, as slipwayd's loop would run.
#include "controller/control/watch_handlers.h"

#include <catch2/catch.hpp>

#include "controller/control/control_protocol.h"
#include "unit/control_fixture.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::control_test;
namespace cp = slipway::control_protocol;

namespace {

struct Handlers : engine_test::Fixture {
  boost::asio::io_context io;
  WatchHandlers handlers{*engine, events, clock, io};

  std::shared_ptr<RecordingSink> run(void (WatchHandlers::*method)(const Caller&, const Value&,
                                                                   Reply),
                                     const Value& request, const Caller& caller) {
    return call(handlers, method, caller, request);
  }
  void settle() {
    io.restart();
    io.poll();
  }
};

}  // namespace

TEST_CASE("watch streams snapshots until the state asked for", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  auto watch = f.run(&WatchHandlers::watch, cp::encode(cp::WatchRequest{id, "Executing"}), f.owner);
  REQUIRE(watch->events().size() == 1);
  CHECK(watch->events()[0]["state"].str() == "Provisioning");
  CHECK(!watch->answered());
  f.boot_all(id);
  f.settle();
  CHECK(watch->result()["state"].str() == "Executing");
  CHECK(watch->events().back()["state"].str() == "Executing");
}

TEST_CASE("watch ends with a timeout once its time has passed on the clock, not before",
          "[control]") {
  Handlers f;
  std::string id = f.deploy();
  auto watch = f.run(&WatchHandlers::watch, cp::encode(cp::WatchRequest{id, "Ready", 5}), f.owner);
  REQUIRE(!watch->answered());
  f.clock.advance(4999);
  f.handlers.tick();
  CHECK(!watch->answered());
  f.clock.advance(1);
  f.handlers.tick();
  REQUIRE(watch->answered());
  CHECK(watch->code() == "timeout");
  CHECK(watch->error() == "deployment " + id + " did not reach Ready in time");
  // A watch that ended on its own is forgotten, not answered twice.
  auto done =
      f.run(&WatchHandlers::watch, cp::encode(cp::WatchRequest{id, "Provisioning", 5}), f.owner);
  REQUIRE(done->answered());
  f.clock.advance(10000);
  f.handlers.tick();
  CHECK(done->ok());
}

TEST_CASE("watch refuses an unknown deployment, a bad state and a missing id", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  auto unknown = f.run(&WatchHandlers::watch, cp::encode(cp::WatchRequest{"d-none"}), f.owner);
  CHECK(unknown->code() == "not-found");
  CHECK(unknown->error() == "no deployment d-none");
  auto hidden = f.run(&WatchHandlers::watch, cp::encode(cp::WatchRequest{id}), stranger());
  CHECK(hidden->code() == "not-found");
  auto bad_state = f.run(&WatchHandlers::watch, cp::encode(cp::WatchRequest{id, "Up"}), f.owner);
  CHECK(bad_state->code() == "usage");
  CHECK(bad_state->error().rfind("--state must be one of Initializing, Provisioning", 0) == 0);
  auto no_id = f.run(&WatchHandlers::watch, Value::object().set("op", "watch"), f.owner);
  CHECK(no_id->code() == "invalid-argument");
  CHECK(no_id->error() == "a \"watch\" request needs \"id\" (a string)");
}

TEST_CASE("a watch whose caller went away is not answered", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  auto watch = f.run(&WatchHandlers::watch, cp::encode(cp::WatchRequest{id, "Executing"}), f.owner);
  watch->hang_up();
  f.boot_all(id);
  f.settle();
  CHECK(!watch->answered());
  CHECK(watch->events().size() == 1);
}

TEST_CASE("logs answers at once without follow and names an instance there is not", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  auto all = f.run(&WatchHandlers::logs, cp::encode(cp::LogsRequest{id}), f.owner);
  CHECK(all->result()["id"].str() == id);
  CHECK(all->events().empty());
  auto missing = f.run(&WatchHandlers::logs, cp::encode(cp::LogsRequest{id, "web.9"}), f.owner);
  CHECK(missing->code() == "not-found");
  CHECK(missing->error() == "deployment " + id + " has no instance web.9");
  auto bad =
      f.run(&WatchHandlers::logs, cp::encode(cp::LogsRequest{id}).set("follow", "yes"), f.owner);
  CHECK(bad->code() == "invalid-argument");
  CHECK(bad->error() == "\"follow\" of a \"logs\" request must be true or false");

  auto followed = f.run(&WatchHandlers::logs, cp::encode(cp::LogsRequest{id, "", true}), f.owner);
  CHECK(!followed->answered());  // until the deployment is over
  followed->hang_up();
}

TEST_CASE("events shows users their own deployments' events and admins everything", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  f.events.record("", "controller.started", "started");
  auto everything = f.run(&WatchHandlers::events, cp::encode(cp::EventsRequest{}), admin());
  auto mine = f.run(&WatchHandlers::events, cp::encode(cp::EventsRequest{}), f.owner);
  auto theirs = f.run(&WatchHandlers::events, cp::encode(cp::EventsRequest{}), stranger());
  CHECK(everything->result().items().size() > mine->result().items().size());
  CHECK(!mine->result().items().empty());
  for (const auto& e : mine->result().items()) CHECK(e["deployment"].str() == id);
  CHECK(theirs->result().items().empty());

  auto followed = f.run(&WatchHandlers::events, cp::encode(cp::EventsRequest{true}), admin());
  size_t before = followed->events().size();
  f.events.record("", "module.pushed", "alice pushed t/tool@1");
  CHECK(followed->events().size() == before + 1);
  CHECK(!followed->answered());
  followed->hang_up();
  f.events.record("", "module.pushed", "alice pushed t/tool@2");
  CHECK(followed->events().size() == before + 1);
}

TEST_CASE("logs sends what is stored, then with follow what comes", "[control]") {
  Handlers f;
  std::string id = f.deploy();
  f.boot_all(id);
  REQUIRE(f.engine->logs().append(id, "server.1", "serve", proto::kStdout, 0, "up\n").ok());
  auto stored = f.run(&WatchHandlers::logs, cp::encode(cp::LogsRequest{id}), f.owner);
  REQUIRE(stored->events().size() == 1);
  CHECK(stored->events()[0]["data"].str() == "up\n");
  CHECK(stored->events()[0]["stream"].str() == "stdout");
  CHECK(stored->result()["id"].str() == id);

  auto followed =
      f.run(&WatchHandlers::logs, cp::encode(cp::LogsRequest{id, "server.1", true}), f.owner);
  CHECK(followed->events().size() == 1);
  f.engine->on_message(AgentIdentity{id, "server.1"},
                       proto::Log{"serve", proto::kStderr, 1, "listening\n"});
  f.settle();
  REQUIRE(followed->events().size() == 2);
  CHECK(followed->events()[1]["data"].str() == "listening\n");
  CHECK(followed->events()[1]["stream"].str() == "stderr");
  CHECK(!followed->answered());
  followed->hang_up();
}
