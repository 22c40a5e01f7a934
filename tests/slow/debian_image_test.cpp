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
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
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

TEST_CASE("the Debian 12 image boots on qemu and installs a package from Debian",
          "[slow][qemu][debian-12]") {
  SKIP_WITHOUT_ROOT();
  const std::string dir = kImagesDir + "/debian-12";
  INFO("build it with: cmake --build build --target image-debian-12");
  REQUIRE(fs::exists(dir + "/disk.qcow2"));

  DeployHarness h("images-dir: " + kImagesDir + "\n", QemuCloud::kYes);
  h.start();
  h.push(R"yaml(kind: image
name: tests/debian-12/hello
description: GNU hello from Debian, on the Debian 12 image's disk
parent: base/debian-12
packages: [hello]
parameters:
  outputs: [greeting, init, seed]
scripts:
  deployment: |
    set -e
    ss-set greeting "$(hello)"
    ss-set init "$(cat /proc/1/comm)"
    ss-set seed "$(systemctl is-active slipway-boot.service) $(ls /run/slipway/seed)"
)yaml");

  const auto started = std::chrono::steady_clock::now();
  Output out;
  std::string id = h.deploy({"tests/debian-12/hello", "--cloud", "qemu", "--wait"}, &out);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
          .count();
  INFO("deploy --wait said:\n" << out.err << "\nslipwayd log:\n" << read_text(h.log()));
  REQUIRE(out.status == 0);
  WARN("booted the Debian 12 disk on qemu, installed hello and ran it in " << seconds << " s");

  CHECK(h.param(id, "hello.1:greeting") == "Hello, world!");
  // systemd booted the machine; slipway-boot mounted the NoCloud seed and
  // the agent's unit started from it.
  CHECK(h.param(id, "hello.1:init") == "systemd");
  CHECK(h.param(id, "hello.1:seed") == "active meta-data\nuser-data");
  CHECK(h.param(id, "hello.1:hostname").rfind(h.qemu_subnet_prefix(), 0) == 0);
  CHECK(h.terminate_and_wait(id) == "Done");
  CHECK(h.leftovers_text() == "");
}
