// What users read of a running deployment: script output followed live,
// reports, and the event stream.
#include <catch2/catch.hpp>

#include "support/deploy_harness.h"
#include "support/json.h"

using namespace slipway;
using namespace slipway::test;

TEST_CASE("logs -f follows every script's output and ends with the deployment", "[e2e][process]") {
  DeployHarness h;
  h.start();
  h.push(R"yaml(
kind: image
name: e2e/chatty
parent: base/host
scripts:
  pre-install: echo "before the packages"
  deployment: |
    for i in 1 2 3; do echo "line $i"; sleep 0.2; done
    echo "a warning" >&2
    printf 'no newline at the end'
)yaml");
  std::string id = h.deploy({"e2e/chatty", "--cloud", "process", "--keep-running", "never"});
  Output logs = h.cli({"logs", "-f", id}, "", 30000);
  CHECK(logs.status == 0);
  CHECK(logs.out ==
        "[chatty.1 pre-install] before the packages\n"
        "[chatty.1 deployment] line 1\n"
        "[chatty.1 deployment] line 2\n"
        "[chatty.1 deployment] line 3\n"
        "[chatty.1 deployment!] a warning\n"
        "[chatty.1 deployment] no newline at the end\n");
  CHECK(h.show(id)["state"].str() == "Done");

  // JSON lines: one object per chunk, as it came.
  Output json = h.cli({"--json", "logs", id});
  REQUIRE(json.status == 0);
  size_t lines = 0;
  for (size_t at = 0; at < json.out.size(); at = json.out.find('\n', at) + 1) {
    auto chunk = parse_json(json.out.substr(at, json.out.find('\n', at) - at));
    REQUIRE(chunk.ok());
    CHECK((*chunk)["instance"].str() == "chatty.1");
    ++lines;
  }
  CHECK(lines >= 3);

  Output events = h.cli({"events"});
  CHECK(events.out.find(id + "  deployment.state         Done") != std::string::npos);
}
