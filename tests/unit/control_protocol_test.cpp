// The control protocol's decoders: each request the CLI encodes decodes to
// what was encoded, and a missing or wrong-typed field is refused with a
// sentence naming it.
#include "controller/control/control_protocol.h"

#include <catch2/catch.hpp>
#include <set>
#include <vector>

using namespace slipway;
namespace cp = slipway::control_protocol;

namespace {

// One request of each operation, as `slipway` builds them.
std::vector<Value> cli_requests() {
  cp::DeployRequest deploy;
  deploy.module = "t/pair@2";
  deploy.cloud = "qemu";
  deploy.node_clouds = {{"server", "local"}};
  deploy.parameters = {"client:title=Hello"};
  deploy.multiplicities = {{"client", 3}};
  deploy.keep_running = "always";
  deploy.timeout_s = 600;
  return {
      cp::encode(deploy),
      cp::request(cp::kList),
      cp::encode(cp::kShow, cp::IdRequest{"d-1"}),
      cp::encode(cp::ParamsRequest{"d-1", "server.*"}),
      cp::encode(cp::GetRequest{"d-1", "server.1:port", 0}),
      cp::encode(cp::SetRequest{"d-1", "server.1:port", "80"}),
      cp::encode(cp::AbortRequest{"d-1", "enough"}),
      cp::encode(cp::kTerminate, cp::IdRequest{"d-1"}),
      cp::encode(cp::kReports, cp::IdRequest{"d-1"}),
      cp::encode(cp::ConsoleRequest{"d-1", "server.1"}),
      cp::encode(cp::PushRequest{{{"a.yaml", "kind: image\n"}, {"b.yaml", ""}}}),
      cp::request(cp::kModuleList),
      cp::encode(cp::kModuleShow, cp::ModuleRequest{"t/pair@1"}),
      cp::encode(cp::kModuleVersions, cp::NameRequest{"t/pair"}),
      cp::encode(cp::kModuleRm, cp::ModuleRequest{"t/pair"}),
      cp::encode(cp::ShareRequest{"t/pair", "group", "staff"}),
      cp::request(cp::kStatus),
      cp::encode(cp::AgentAddRequest{"edge-1", "10.0.0.1"}),
      cp::encode(cp::kAgentRevoke, cp::NameRequest{"edge-1"}),
      cp::request(cp::kAgentList),
      cp::encode(cp::WatchRequest{"d-1", "Done", 30}),
      cp::encode(cp::LogsRequest{"d-1", "server.1", true}),
      cp::encode(cp::EventsRequest{true}),
      cp::encode(cp::ImageRequest{std::string(cp::kImageBuild), "t/server@2", "qemu"}),
      cp::encode(cp::ImageRequest{std::string(cp::kImageList), "t/server", ""}),
      cp::encode(cp::ImageRequest{std::string(cp::kImageRm), "t/server", "local"}),
  };
}

}  // namespace

TEST_CASE("every request the CLI encodes decodes to itself", "[control-protocol]") {
  auto requests = cli_requests();
  std::set<std::string> ops;
  for (const auto& r : requests) {
    INFO(r.to_json());
    auto again = cp::normalize(r);
    REQUIRE(again.ok());
    CHECK(again->to_json() == r.to_json());
    ops.insert(r["op"].str());
  }
  // One of each, and no operation left out.
  CHECK(ops.size() == std::size(cp::kOperations));
  for (auto op : cp::kOperations) CHECK(ops.count(std::string(op)) == 1);
}

TEST_CASE("decoders name a missing field and a wrong-typed one", "[control-protocol]") {
  auto missing = cp::decode_set(Value::object().set("op", "set").set("id", "d-1").set("key", "k"));
  REQUIRE(!missing.ok());
  CHECK(missing.error().code() == Code::kInvalidArgument);
  CHECK(missing.error().message() == "a \"set\" request needs \"value\" (a string)");

  auto wrong = cp::decode_watch(
      Value::object().set("op", "watch").set("id", "d-1").set("timeout_s", "soon"));
  REQUIRE(!wrong.ok());
  CHECK(wrong.error().code() == Code::kInvalidArgument);
  CHECK(wrong.error().message() == "\"timeout_s\" of a \"watch\" request must be an integer");

  auto clouds = cp::decode_deploy(
      Value::object().set("module", "m").set("node_clouds", Value::object().set("a", int64_t{1})));
  REQUIRE(!clouds.ok());
  CHECK(clouds.error().message() ==
        "\"node_clouds\" of a \"deploy\" request must be a map of node to cloud name");

  auto files = cp::decode_push(Value::object().set("files", Value::array().push("x")));
  REQUIRE(!files.ok());
  CHECK(files.error().code() == Code::kInvalidArgument);
}

TEST_CASE("optional fields take their defaults when missing or nil", "[control-protocol]") {
  auto get =
      cp::decode_get(Value::object().set("id", "d-1").set("key", "k").set("timeout_s", Value()));
  REQUIRE(get.ok());
  CHECK(get->timeout_s == 60);
  auto add = cp::decode_agent_add(Value::object().set("name", "edge-1"));
  REQUIRE(add.ok());
  CHECK(add->host == "127.0.0.1");
  auto watch = cp::decode_watch(Value::object().set("id", "d-1"));
  REQUIRE(watch.ok());
  CHECK(watch->state == "Ready");
  CHECK(watch->timeout_s == 0);
  auto params = cp::decode_params(Value::object().set("id", "d-1").set("extra", true));
  REQUIRE(params.ok());
  CHECK(params->glob == "*");
}

TEST_CASE("an unknown operation is not normalized", "[control-protocol]") {
  auto unknown = cp::normalize(Value::object().set("op", "format-disk"));
  REQUIRE(!unknown.ok());
  CHECK(unknown.error().code() == Code::kUsage);
}
