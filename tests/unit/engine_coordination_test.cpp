// The deployment engine's runtime parameters and barriers (SPEC section 4),
// driven through its injected interfaces like engine_test.cpp.
#include <catch2/catch.hpp>

#include "unit/engine_fixture.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::engine_test;

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

TEST_CASE("a failing script aborts with its instance and stderr line, blocked gets return aborted",
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

TEST_CASE("the built-in parameters start as their table says and only the controller sets its own",
          "[engine]") {
  Fixture f;
  std::string id = f.deploy();
  const Deployment* d = f.engine->active(id);
  REQUIRE(d != nullptr);
  const Instance& server = d->instances.at("server.1");
  CHECK_FALSE(f.param(id, "server.1:hostname").has_value());  // a get waits for it
  CHECK(*f.param(id, "server.1:instanceid") == server.machine_id);
  CHECK(*f.param(id, "server.1:vmstate") == "launching");  // set as its launch was ordered
  CHECK(*f.param(id, "server.1:statecustom") == "");
  CHECK(*f.param(id, "server.1:abort") == "");
  CHECK(*f.param(id, "server.1:complete") == "");

  f.boot_all(id);
  AgentIdentity agent{id, "server.1"};
  uint64_t request = 100;
  for (const auto& builtin : kBuiltinParameters) {
    f.engine->on_message(agent, proto::Set{++request, std::string(builtin.name), "x"});
    const proto::Reply reply = f.agents.replies(agent.display()).at(request);
    CHECK(reply.code == (builtin.controller_owned ? "permission-denied" : "ok"));
    Status from_outside =
        f.engine->set_parameter(Caller::system(), id, "server.1:" + std::string(builtin.name), "x");
    CHECK(from_outside.ok() == !builtin.controller_owned);
  }
}
