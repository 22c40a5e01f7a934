// What users read of a running deployment: script output followed live,
// reports, and the event stream.
#include <sys/stat.h>

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

TEST_CASE("reports larger than one control frame download whole", "[e2e][process]") {
  DeployHarness h;
  h.start();
  // Two machines of 40 MiB of reports each: 80 MiB, over the 64 MiB frame.
  h.push(R"yaml(
kind: image
name: e2e/bulky
parent: base/host
scripts:
  report: |
    head -c 41943040 /dev/zero | tr '\0' 'r' > "$SLIPWAY_REPORT_DIR/big.bin"
    echo small > "$SLIPWAY_REPORT_DIR/small.txt"
)yaml");
  h.push("kind: deployment\nname: e2e/bulky-d\nnodes:\n  b: {image: e2e/bulky, multiplicity: 2}\n");
  Output out;
  std::string id =
      h.deploy({"e2e/bulky-d", "--cloud", "process", "--keep-running", "never", "--wait"}, &out);
  INFO(out.err);
  REQUIRE(h.show(id)["state"].str() == "Done");
  Output reports = h.cli({"--json", "reports", id, "-o", h.dir() + "/r"}, "", 120000);
  INFO(reports.err);
  REQUIRE(reports.status == 0);
  for (const std::string instance : {"b.1", "b.2"}) {
    struct stat st {};
    REQUIRE(::stat((h.dir() + "/r/" + instance + "/big.bin").c_str(), &st) == 0);
    CHECK(st.st_size == 41943040);
    CHECK(read_text(h.dir() + "/r/" + instance + "/small.txt") == "small\n");
  }
  auto listed = parse_json(reports.out);
  REQUIRE(listed.ok());
  std::string paths;
  for (const auto& f : listed->items()) paths += f["path"].str() + "\n";
  // With what the agent adds of its own: every script's output.
  std::string expected;
  for (const std::string instance : {"b.1", "b.2"}) {
    for (const std::string name : {"_slipway/scripts.log", "big.bin", "small.txt"}) {
      expected += h.dir() + "/r/" + instance + "/" + name + "\n";
    }
  }
  CHECK(paths == expected);
  for (const auto& f : listed->items()) CHECK(f["complete"].as_bool());
}
