// The agents registered by hand, as slipwayd answers for them: a real
// in-memory store and an AgentHub listening on 127.0.0.1.
#include "controller/control/agent_handlers.h"

#include <catch2/catch.hpp>

#include "controller/control/control_protocol.h"
#include "unit/control_fixture.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::control_test;
namespace cp = slipway::control_protocol;

namespace {

struct Handlers : HubFixture {
  AgentHandlers agent_ops{*hub, events, clock, controller_keys.public_key};

  std::shared_ptr<RecordingSink> agents(void (AgentHandlers::*method)(const Caller&, const Value&,
                                                                      Reply),
                                        const Value& request, const Caller& caller) {
    return call(agent_ops, method, caller, request);
  }
};

}  // namespace

TEST_CASE("agent operations are for root and the admin group only", "[control]") {
  Handlers f;
  auto add = f.agents(&AgentHandlers::add, cp::encode(cp::AgentAddRequest{"edge-1"}), stranger());
  CHECK(add->code() == "permission-denied");
  CHECK(add->error() == "only root and the admin group may register agents");
  auto revoke = f.agents(&AgentHandlers::revoke,
                         cp::encode(cp::kAgentRevoke, cp::NameRequest{"edge-1"}), stranger());
  CHECK(revoke->error() == "only root and the admin group may revoke agents");
  auto list = f.agents(&AgentHandlers::list, cp::request(cp::kAgentList), stranger());
  CHECK(list->code() == "permission-denied");
  CHECK(list->error() == "only root and the admin group may list registered agents");
}

TEST_CASE("agent.add answers a contextualization and agent.revoke ends the key", "[control]") {
  Handlers f;
  auto bad_name = f.agents(&AgentHandlers::add, cp::encode(cp::AgentAddRequest{"edge_1"}), admin());
  CHECK(bad_name->code() == "invalid-argument");
  CHECK(bad_name->error() == "an agent name is 1 to 63 letters, digits and dashes");
  auto no_name = f.agents(&AgentHandlers::add, Value::object().set("op", "agent.add"), admin());
  CHECK(no_name->code() == "invalid-argument");
  CHECK(no_name->error() == "a \"agent.add\" request needs \"name\" (a string)");

  auto added =
      f.agents(&AgentHandlers::add, cp::encode(cp::AgentAddRequest{"edge-1", "10.1.2.3"}), admin());
  const Value& r = added->result();
  CHECK(r["name"].str() == "edge-1");
  std::string port = std::to_string(f.hub->endpoint().port());
  CHECK(r["context"].str().find("tcp://10.1.2.3:" + port) != std::string::npos);
  CHECK(r["context"].str().find(f.controller_keys.public_key) != std::string::npos);

  auto listed = f.agents(&AgentHandlers::list, cp::request(cp::kAgentList), admin());
  REQUIRE(listed->result().items().size() == 1);
  CHECK(listed->result().items()[0]["public_key"].str() == r["public_key"].str());
  CHECK(listed->result().items()[0]["state"].str() == "never connected");

  auto revoked = f.agents(&AgentHandlers::revoke,
                          cp::encode(cp::kAgentRevoke, cp::NameRequest{"edge-1"}), admin());
  CHECK(revoked->result()["name"].str() == "edge-1");
  listed = f.agents(&AgentHandlers::list, cp::request(cp::kAgentList), admin());
  CHECK(listed->result().items()[0]["state"].str() == "revoked");
  auto again = f.agents(&AgentHandlers::revoke,
                        cp::encode(cp::kAgentRevoke, cp::NameRequest{"edge-1"}), admin());
  CHECK(again->code() == "not-found");
}
