// examples/hello end to end: a real controller, real static agents, real
// machines on the local cloud (Linux namespaces on a bridge).
#include <catch2/catch.hpp>

#include "support/deploy_harness.h"

using namespace slipway;
using namespace slipway::test;

TEST_CASE("examples/hello reaches Ready on local and its parameters hold what the scripts set",
          "[e2e][local]") {
  SKIP_WITHOUT_ROOT();
  DeployHarness h;
  h.start();
  h.push_source("examples/hello");
  Output out;
  std::string id = h.deploy({"examples/hello", "--wait"}, &out);
  INFO("deploy --wait said:\n" << out.err << "\nslipwayd log:\n" << read_text(h.log()));
  REQUIRE(out.status == 0);
  // --wait showed each machine's phase and statecustom as it went.
  CHECK(out.err.find("Executing") != std::string::npos);
  CHECK(out.err.find("client.3") != std::string::npos);
  CHECK(out.err.find("\"serving on port 8080\"") != std::string::npos);

  Value d = h.show(id);
  CHECK(d["state"].str() == "Ready");
  CHECK_FALSE(d["aborted"].as_bool());
  REQUIRE(d["instances_detail"].items().size() == 4);

  CHECK(h.param(id, "server.1:port") == "8080");
  std::string token = h.param(id, "server.1:token");
  CHECK(token.size() == 16);
  std::string server_address = h.param(id, "server.1:hostname");
  CHECK(server_address.rfind(h.subnet_prefix(), 0) == 0);
  for (const std::string client : {"client.1", "client.2", "client.3"}) {
    INFO(client);
    // The mapped inputs carry the server's outputs...
    CHECK(h.param(id, client + ":server_token") == token);
    CHECK(h.param(id, client + ":server_host") == server_address);
    // ...and the client really talked to the server over the bridge.
    CHECK(h.param(id, client + ":greeting").find("hello from the server") != std::string::npos);
    CHECK(h.param(id, client + ":complete") == "true");
  }
  CHECK(h.param(id, "server.1:statecustom") == "every client was greeted");
  CHECK(h.param(id, "client:ids") == "1,2,3");
  // The generated token never reaches the controller's log.
  CHECK(read_text(h.log()).find(token) == std::string::npos);

  // Reports and logs arrived.
  Output reports = h.cli({"reports", id, "-o", h.dir() + "/reports"});
  REQUIRE(reports.status == 0);
  CHECK(read_text(h.dir() + "/reports/client.2/greeting.txt").find("hello from the server") !=
        std::string::npos);
  CHECK(read_text(h.dir() + "/reports/server.1/served.txt").find(token) != std::string::npos);
  Output logs = h.cli({"logs", id, "server.1"});
  CHECK(logs.status == 0);

  CHECK(h.terminate_and_wait(id) == "Done");
  CHECK(h.leftovers_text() == "");
}
