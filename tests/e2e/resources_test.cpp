// An image's resources hold in its machines: the module's memory_mb reaches
// the local cloud's limit, through the planner, the engine and the
// connector, and a script that needs more is stopped by the kernel inside
// the machine, not on the host.
#include <catch2/catch.hpp>

#include "support/deploy_harness.h"

using namespace slipway;
using namespace slipway::test;

namespace {

// tail holds the whole of its last line: 200 MiB here.
constexpr const char* kHungry = R"yaml(
kind: image
name: e2e/hungry
parent: base/host
resources: {memory_mb: 64}
scripts:
  deployment: |
    if ! head -c 200M /dev/zero | tail -n 1 > /dev/null; then
      echo "could not hold 200 MiB" >&2
      exit 1
    fi
)yaml";

// The same script, on a machine with room for it.
constexpr const char* kRoomy = R"yaml(
kind: image
name: e2e/roomy
parent: e2e/hungry
resources: {memory_mb: 512}
)yaml";

// A deployment of one machine of image e2e/NODE, named e2e/NODE-alone.
std::string alone(const std::string& node) {
  return "kind: deployment\nname: e2e/" + node + "-alone\nnodes:\n  " + node + ": {image: e2e/" +
         node + "}\n";
}

}  // namespace

TEST_CASE("a script needing more memory than its image's memory_mb fails inside its machine",
          "[e2e][local]") {
  SKIP_WITHOUT_ROOT();
  DeployHarness h;
  h.start();
  for (const std::string& module :
       {std::string(kHungry), std::string(kRoomy), alone("hungry"), alone("roomy")}) {
    h.push(module);
  }

  Output out;
  std::string hungry = h.deploy({"e2e/hungry-alone", "--wait"}, &out);
  INFO(out.err << "\n" << read_text(h.log()));
  CHECK(out.status == 8);
  Value d = h.show(hungry);
  CHECK(d["abort_reason"].str() ==
        "hungry.1: deployment script of e2e/hungry@1 exited with status 1: could not hold 200 "
        "MiB");

  std::string roomy = h.deploy({"e2e/roomy-alone", "--wait"}, &out);
  CHECK(out.status == 0);
  CHECK(h.terminate_and_wait(roomy) == "Done");
  CHECK(h.leftovers_text() == "");
}
