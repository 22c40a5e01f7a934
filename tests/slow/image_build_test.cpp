// The image factory on the Debian 12 reference image (docs/images.md): a
// derived image with a real package from Debian, built once on local and
// once on qemu, then deployed; the machines have the package and the
// post-install's files, and their own script logs show those steps did not
// run again. Slow: packages come over the network, and qemu runs under TCG.
#include <catch2/catch.hpp>
#include <chrono>

#include "common/fs.h"
#include "support/deploy_harness.h"

using namespace slipway;
using namespace slipway::test;

namespace {

const std::string kImagesDir = SLIPWAY_IMAGES_DIR;

std::string image(const std::string& name, const std::string& package) {
  return "kind: image\nname: " + name +
         "\nparent: base/debian-12\npackages: [" + package + R"yaml(]
parameters:
  outputs: [package, page, ran]
scripts:
  post-install: |
    echo post >> /var/lib/built-ran
    echo "hello from a built image" > /etc/built-page
    echo "post-install ran"
  deployment: |
    echo "deployment ran"
    ss-set package "$(dpkg-query -W -f='${Status}' )yaml" +
         package + R"yaml()"
    ss-set page "$(cat /etc/built-page)"
    ss-set ran "$(tr '\n' , < /var/lib/built-ran)"
)yaml";
}

int64_t seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
      .count();
}

// Builds `name` on `cloud`, deploys it there, and checks the machine from
// inside: the package and the files are there, made once, by the build.
void build_and_deploy(DeployHarness& h, const std::string& name, const std::string& node,
                      const std::string& package, const std::string& cloud) {
  h.push(image(name, package));
  auto started = std::chrono::steady_clock::now();
  Output begun = h.cli({"image", "build", name, "--cloud", cloud});
  REQUIRE(begun.status == 0);
  const std::string build_run = begun.out.substr(0, begun.out.find('\n'));
  if (cloud == "qemu") {
    // A build is watched like a deployment: its machine's console too (a
    // quiet boot's: it may say little, but it is there while the VM runs).
    CHECK(eventually(
        [&] { return h.cli({"logs", build_run, node + ".1", "--console"}).status == 0; },
        120000));
  }
  Output built = h.cli({"wait", build_run, "--state", "Done", "--timeout", "1500"}, "", 1500000);
  INFO("image build said:\n" << built.err << "\nslipwayd log:\n" << read_text(h.log()));
  REQUIRE(built.status == 0);
  WARN("built " << name << " on " << cloud << " in " << seconds_since(started) << " s");
  const Value listed = h.cli_json({"image", "list", name});
  REQUIRE(listed.items().size() == 1);
  CHECK(listed.items()[0]["state"].str() == "ready");
  WARN(name << " on " << cloud << " takes " << (listed.items()[0]["size_bytes"].as_int() >> 20)
            << " MiB");

  started = std::chrono::steady_clock::now();
  Output out;
  std::string id = h.deploy({name, "--cloud", cloud, "--wait"}, &out);
  INFO(out.err);
  REQUIRE(out.status == 0);
  WARN("deployed " << name << " from its build on " << cloud << " in " << seconds_since(started)
                   << " s");
  CHECK(h.param(id, node + ".1:package") == "install ok installed");
  CHECK(h.param(id, node + ".1:page") == "hello from a built image");
  CHECK(h.param(id, node + ".1:ran") == "post,");
  const Value shown = h.show(id);
  REQUIRE(shown["nodes"].items().size() == 1);
  CHECK(shown["nodes"].items()[0]["boots_image"].str() == name + "@1");
  Output logs = h.cli({"logs", id, node + ".1"});
  CHECK(logs.out.find("deployment ran") != std::string::npos);
  CHECK(logs.out.find("post-install ran") == std::string::npos);
  CHECK(logs.out.find("apt-get") == std::string::npos);
  CHECK(h.terminate_and_wait(id) == "Done");
}

}  // namespace

TEST_CASE("a Debian 12 image with nginx is built and deployed on local", "[slow][local][debian-12]") {
  SKIP_WITHOUT_ROOT();
  REQUIRE(fs::exists(kImagesDir + "/debian-12/rootfs/usr/sbin/slipway-agent"));
  DeployHarness h("images-dir: " + kImagesDir + "\n");
  h.start();
  build_and_deploy(h, "tests/debian-nginx", "debian-nginx", "nginx", "local");
  CHECK(h.leftovers_text() == "");
}

TEST_CASE("a Debian 12 image is built on qemu into a standalone disk and deployed from it",
          "[slow][qemu][debian-12]") {
  SKIP_WITHOUT_ROOT();
  REQUIRE(fs::exists(kImagesDir + "/debian-12/disk.qcow2"));
  DeployHarness h("images-dir: " + kImagesDir + "\n", QemuCloud::kYes);
  h.start();
  build_and_deploy(h, "tests/debian-hello", "debian-hello", "hello", "qemu");
  // The disk stands alone: the parent's can be rebuilt under it.
  const Value listed = h.cli_json({"image", "list", "tests/debian-hello"});
  const std::string dir = h.dir() + "/data/builds/" + listed.items()[0]["id"].str();
  Output info = run({"/usr/bin/qemu-img", "info", dir + "/disk.qcow2"});
  CHECK(info.status == 0);
  CHECK(info.out.find("backing file") == std::string::npos);
  CHECK(h.leftovers_text() == "");
}
