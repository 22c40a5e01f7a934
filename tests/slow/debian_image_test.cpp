// The Debian 12 reference image (images/debian-12) on the local cloud: a
// derived image installs a real package from Debian inside its machine, and
// its deployment script runs it. Slow: the package comes over the network,
// and the image is built first if it is not there yet (the fixture
// "slow: the Debian 12 image builds").
#include <catch2/catch.hpp>
#include <chrono>

#include "common/fs.h"
#include "support/deploy_harness.h"

using namespace slipway;
using namespace slipway::test;

namespace {

// The images directory of the build tree, which a controller looks for by
// itself (images/README.md); given explicitly, so that this test does not
// depend on where the test's slipwayd binary sits.
const std::string kImagesDir = SLIPWAY_IMAGES_DIR;

}  // namespace

TEST_CASE("the Debian 12 image installs a package from Debian and runs it on local",
          "[slow][local][debian-12]") {
  SKIP_WITHOUT_ROOT();
  const std::string rootfs = kImagesDir + "/debian-12/rootfs";
  INFO("build it with: cmake --build build --target image-debian-12");
  REQUIRE(fs::exists(rootfs + "/usr/sbin/slipway-agent"));
  REQUIRE_FALSE(fs::exists(rootfs + "/usr/bin/hello"));
  // The test checks below that the machine installed it, not the host.
  REQUIRE(run({"/usr/bin/dpkg-query", "-W", "hello"}).status != 0);

  DeployHarness h("images-dir: " + kImagesDir + "\n");
  h.start();
  h.push(R"(kind: image
name: tests/debian-12
description: The Debian 12 reference image of the build tree (images/debian-12)
platform: debian
reference:
  local: {rootfs: debian-12}
)");
  h.push(R"yaml(kind: image
name: tests/debian-12/hello
description: GNU hello from Debian, on the Debian 12 image
parent: tests/debian-12
packages: [hello]
parameters:
  outputs: [greeting, agent, os]
scripts:
  deployment: |
    set -e
    ss-set greeting "$(hello)"
    ss-set agent "$(dpkg-query -W -f='${Package} ${Version}' slipway-agent)"
    ss-set os "$(. /etc/os-release && echo "$ID $VERSION_ID")"
)yaml");

  const auto started = std::chrono::steady_clock::now();
  Output out;
  std::string id = h.deploy({"tests/debian-12/hello", "--wait"}, &out);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  INFO(out.err);
  REQUIRE(out.status == 0);
  WARN("deployed tests/debian-12/hello (apt-get update and install of hello) in " << seconds
                                                                                    << " s");

  CHECK(h.param(id, "hello.1:greeting") == "Hello, world!");
  // The machine ran on the image, which has the slipway-agent package.
  CHECK(h.param(id, "hello.1:agent").rfind("slipway-agent ", 0) == 0);
  CHECK(h.param(id, "hello.1:os") == "debian 12");
  // Nothing was installed on the host, nor into the image.
  CHECK(run({"/usr/bin/dpkg-query", "-W", "hello"}).status != 0);
  CHECK_FALSE(fs::exists("/usr/bin/hello"));
  CHECK_FALSE(fs::exists(rootfs + "/usr/bin/hello"));
  CHECK(h.terminate_and_wait(id) == "Done");
  CHECK(h.leftovers_text() == "");
}
