// Bad module files, bad -p values, unknown modules and clouds: one clear
// error each, and nothing changes.
#include <catch2/catch.hpp>

#include "common/fs.h"
#include "support/deploy_harness.h"

using namespace slipway;
using namespace slipway::test;

TEST_CASE("bad modules, parameters, modules and clouds give one clear error and change nothing",
          "[e2e][cli]") {
  DeployHarness h;
  h.start();
  h.push_source("examples/hello");
  Value before = h.cli_json({"module", "list"});

  std::string bad = h.dir() + "/bad.yaml";
  REQUIRE(fs::write_file_atomic(
              bad, "kind: image\nname: e2e/bad\nparent: base/host\npackages: curl\n", 0644)
              .ok());
  Output pushed = h.cli({"module", "push", bad});
  CHECK(pushed.status == 1);
  CHECK(pushed.err == "slipway: " + bad + ":4: packages must be a list\n");
  CHECK(h.cli_json({"module", "list"}) == before);

  Output p = h.cli({"deploy", "examples/hello", "-p", "client:server_port"});
  CHECK(p.status == 2);
  CHECK(p.err == "slipway: -p client:server_port: write -p NODE:KEY=VALUE\n");
  Output input = h.cli({"deploy", "examples/hello", "-p", "client:colour=red"});
  CHECK(input.status == 1);
  CHECK(input.err ==
        "slipway: -p client:colour=red: node client (examples/hello/client) has no input colour\n");
  Output module = h.cli({"deploy", "examples/nothing"});
  CHECK(module.status == 3);
  CHECK(module.err == "slipway: no module named examples/nothing\n");
  Output cloud = h.cli({"deploy", "examples/hello", "--cloud", "aws"});
  CHECK(cloud.status == 3);
  CHECK(cloud.err ==
        "slipway: node server: there is no cloud named aws (configured: local, process)\n");
  Output node_cloud = h.cli({"deploy", "examples/hello", "--node-cloud", "database=local"});
  CHECK(node_cloud.status == 1);
  Output show = h.cli({"show", "nosuchid"});
  CHECK(show.status == 3);
  Output wait = h.cli({"wait", "nosuchid"});
  CHECK(wait.status == 3);
  Output console = h.cli({"logs", "nosuchid", "--console"});
  CHECK(console.status == 2);
  CHECK(console.err ==
        "slipway: --console shows one machine's console: name its instance, without -f\n");
  CHECK(h.cli({"logs", "nosuchid", "web.1", "--console"}).status == 3);

  CHECK(h.cli_json({"list"}).items().empty());  // nothing was created
  CHECK(h.cli_json({"module", "list"}) == before);
}
