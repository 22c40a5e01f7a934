// The image factory end to end (docs/images.md): `slipway image build` on the
// local cloud, deployments that boot the built image and skip its steps,
// staleness by content, an incremental chain, removal, and the refusals.
#include <catch2/catch.hpp>

#include "common/fs.h"
#include "support/deploy_harness.h"

using namespace slipway;
using namespace slipway::test;

namespace {

// Each install step appends its name to /var/lib/built/ran, so a machine
// tells which steps made its files, and its deployment script publishes it.
std::string image_yaml(const std::string& post_install_marker) {
  return R"yaml(kind: image
name: tests/built
parent: base/busybox
parameters:
  outputs: [marker, ran]
scripts:
  pre-install: |
    mkdir -p /var/lib/built
    echo pre >> /var/lib/built/ran
    echo "pre-install ran"
  post-install: |
    echo post >> /var/lib/built/ran
    echo "post-install ran"
    echo )yaml" + post_install_marker + R"yaml( > /etc/built-marker
  deployment: |
    echo "deployment ran"
    ss-set marker "$(cat /etc/built-marker)"
    ss-set ran "$(tr '\n' , < /var/lib/built/ran)"
)yaml";
}

constexpr const char* kChild = R"yaml(kind: image
name: tests/built/child
parent: tests/built
parameters:
  outputs: [child, child_marker]
scripts:
  post-install: |
    echo child >> /var/lib/built/ran
  deployment: |
    ss-set child "$(tr '\n' , < /var/lib/built/ran)"
    ss-set child_marker "$(cat /etc/built-marker)"
)yaml";

// The builds `image list --json` shows of `name`, as "cloud:state" words.
std::string builds_of(DeployHarness& h, const std::string& name) {
  std::string out;
  const Value listed = h.cli_json({"image", "list", name});
  for (const auto& b : listed.items()) {
    if (b["name"].str() == name) out += (out.empty() ? "" : " ") + b["cloud"].str() + ":" + b["state"].str();
  }
  return out;
}

// Where the controller keeps built images, and how many it holds.
std::string builds_dir(DeployHarness& h) {
  return h.dir() + "/data/builds";
}
size_t build_dirs(DeployHarness& h) {
  auto entries = fs::list_dir(builds_dir(h));
  return entries.ok() ? entries->size() : 0;
}

void build(DeployHarness& h, const std::string& image) {
  Output out = h.cli({"image", "build", image, "--cloud", "local", "--wait"}, "", 300000);
  INFO("image build said:\n" << out.err << "\nslipwayd log:\n" << read_text(h.log()));
  REQUIRE(out.status == 0);
  CHECK(out.err.find("is built on local") != std::string::npos);
}

}  // namespace

TEST_CASE("a built image on local boots with its install steps done and skips them",
          "[e2e][local][images]") {
  SKIP_WITHOUT_ROOT();
  SKIP_WITHOUT_BUSYBOX_IMAGE();
  DeployHarness h;
  h.start();
  h.push(image_yaml("v1"));

  // Refusals first: nothing is made by any of them.
  Output reference = h.cli({"image", "build", "base/busybox"});
  CHECK(reference.status != 0);
  CHECK(reference.err.find("is a reference image") != std::string::npos);
  h.push("kind: image\nname: tests/on-host\nparent: base/host\n"
         "scripts: {post-install: 'true'}\n");
  Output process = h.cli({"image", "build", "tests/on-host", "--cloud", "process"});
  CHECK(process.status != 0);
  CHECK(process.err.find("cannot snapshot") != std::string::npos);
  CHECK(builds_of(h, "tests/built") == "");

  build(h, "tests/built");
  Value listed = h.cli_json({"image", "list", "tests/built"});
  REQUIRE(listed.items().size() == 1);
  CHECK(listed.items()[0]["state"].str() == "ready");
  CHECK(listed.items()[0]["image"].str() == "tests/built@1");
  CHECK(listed.items()[0]["size_bytes"].as_int() > 0);
  CHECK(listed.items()[0]["build_ms"].as_int() > 0);
  Value status = h.cli_json({"status"});
  CHECK(status["images"]["bytes"].as_int() == listed.items()[0]["size_bytes"].as_int());

  // A deployment boots it: the files are there, and the install steps ran
  // once, on the build's machine, not on this one.
  std::string id = h.deploy({"tests/built", "--wait"});
  CHECK(h.param(id, "built.1:marker") == "v1");
  CHECK(h.param(id, "built.1:ran") == "pre,post,");
  Value shown = h.show(id);
  REQUIRE(shown["nodes"].items().size() == 1);
  CHECK(shown["nodes"].items()[0]["boots_image"].str() == "tests/built@1");
  Output show_text = h.cli({"show", id});
  CHECK(show_text.out.find("boots the built image of tests/built@1") != std::string::npos);
  // The machine's script log holds its deployment step alone.
  Output logs = h.cli({"logs", id, "built.1"});
  INFO("logs said:\n" << logs.out << logs.err);
  CHECK(logs.status == 0);
  CHECK(logs.out.find("deployment ran") != std::string::npos);
  CHECK(logs.out.find("post-install ran") == std::string::npos);
  CHECK(logs.out.find("pre-install ran") == std::string::npos);

  // Built again while that machine runs from it: the new build replaces
  // the old one at once, but the old files stay until the run is over.
  const std::string old_dir = builds_dir(h) + "/" + listed.items()[0]["id"].str();
  build(h, "tests/built");
  const Value rebuilt = h.cli_json({"image", "list", "tests/built"});
  REQUIRE(rebuilt.items().size() == 1);
  CHECK(rebuilt.items()[0]["id"].str() != listed.items()[0]["id"].str());
  CHECK(fs::exists(old_dir));
  CHECK(h.terminate_and_wait(id) == "Done");
  CHECK(eventually([&] { return !fs::exists(old_dir); }, 10000));

  // An image built on it starts from its build (an incremental chain).
  h.push(kChild);
  Output child_build =
      h.cli({"image", "build", "tests/built/child", "--cloud", "local", "--wait"}, "", 300000);
  INFO(child_build.err);
  REQUIRE(child_build.status == 0);
  CHECK(child_build.err.find("from the build of tests/built@1") != std::string::npos);
  Output child_out;
  std::string child = h.deploy({"tests/built/child", "--wait"}, &child_out);
  INFO("deploy said:\n" << child_out.err << "\nslipwayd log:\n" << read_text(h.log()));
  REQUIRE(child_out.status == 0);
  CHECK(h.param(child, "child.1:child") == "pre,post,child,");
  // The parent's files the child's steps never touched are there too.
  CHECK(h.param(child, "child.1:child_marker") == "v1");
  Value child_shown = h.show(child);
  REQUIRE(child_shown["nodes"].items().size() == 1);
  CHECK(child_shown["nodes"].items()[0]["boots_image"].str() == "tests/built/child@1");
  CHECK(h.terminate_and_wait(child) == "Done");

  // A changed post-install makes the build stale: never used again, and
  // the next deployment runs the steps itself. Its child is stale too.
  h.push(image_yaml("v2"));
  CHECK(builds_of(h, "tests/built") == "local:stale");
  CHECK(builds_of(h, "tests/built/child") == "local:stale");
  std::string fresh = h.deploy({"tests/built", "--wait"});
  CHECK(h.param(fresh, "built.1:marker") == "v2");
  CHECK(h.param(fresh, "built.1:ran") == "pre,post,");
  Value fresh_shown = h.show(fresh);
  REQUIRE(fresh_shown["nodes"].items().size() == 1);
  CHECK(fresh_shown["nodes"].items()[0]["boots_image"].str() == "");
  Output fresh_logs = h.cli({"logs", fresh, "built.1"});
  CHECK(fresh_logs.out.find("post-install ran") != std::string::npos);
  CHECK(h.terminate_and_wait(fresh) == "Done");

  // Removal takes the records and the files.
  Output rm = h.cli({"image", "rm", "tests/built/child"});
  CHECK(rm.status == 0);
  CHECK(h.cli({"image", "rm", "tests/built", "--cloud", "local"}).status == 0);
  CHECK(h.cli({"image", "rm", "tests/built"}).status != 0);  // nothing left to remove
  CHECK(h.cli_json({"image", "list"}).items().empty());
  CHECK(build_dirs(h) == 0);
  CHECK(h.leftovers_text() == "");
}

TEST_CASE("a second build of the same image and cloud is refused while the first runs",
          "[e2e][local][images]") {
  SKIP_WITHOUT_ROOT();
  SKIP_WITHOUT_BUSYBOX_IMAGE();
  DeployHarness h;
  h.start();
  h.push(image_yaml("v1"));
  Output first = h.cli({"image", "build", "tests/built"});
  REQUIRE(first.status == 0);
  Output second = h.cli({"image", "build", "tests/built"});
  CHECK(second.status != 0);
  CHECK(second.err.find("already being built on cloud local") != std::string::npos);
  std::string id = first.out.substr(0, first.out.find('\n'));
  CHECK(h.cli({"wait", id, "--state", "Done"}, "", 300000).status == 0);
  CHECK(builds_of(h, "tests/built") == "local:ready");
  // Removing the module version a build was made of removes the build.
  Output rm = h.cli({"module", "rm", "tests/built@1"});
  INFO(rm.err);
  CHECK(rm.status == 0);
  CHECK(h.cli_json({"image", "list"}).items().empty());
  CHECK(build_dirs(h) == 0);
  CHECK(h.leftovers_text() == "");
}

TEST_CASE("a failed build leaves no image and says why, and a crash mid-build leaves nothing half-made",
          "[e2e][local][images]") {
  SKIP_WITHOUT_ROOT();
  SKIP_WITHOUT_BUSYBOX_IMAGE();
  DeployHarness h;
  h.start();
  h.push(R"yaml(kind: image
name: tests/broken
parent: base/busybox
scripts:
  post-install: |
    echo "making the image"
    echo "no space for the cache" >&2
    exit 3
)yaml");
  Output failed = h.cli({"image", "build", "tests/broken", "--wait"}, "", 300000);
  CHECK(failed.status == 8);  // aborted, as a deployment that aborts
  CHECK(failed.err.find("no space for the cache") != std::string::npos);
  const Value listed = h.cli_json({"image", "list", "tests/broken"});
  REQUIRE(listed.items().size() == 1);
  CHECK(listed.items()[0]["state"].str() == "failed");
  CHECK(listed.items()[0]["error"].str().find("post-install") != std::string::npos);
  CHECK(listed.items()[0]["error"].str().find("no space for the cache") != std::string::npos);
  // Its log stays with its run.
  Output logs = h.cli({"logs", listed.items()[0]["deployment"].str()});
  CHECK(logs.out.find("making the image") != std::string::npos);
  CHECK(build_dirs(h) == 0);

  // Killed while a build's machine works: after the restart the build
  // carries on and ends ready, and what no build owns is gone.
  h.push(R"yaml(kind: image
name: tests/slow
parent: base/busybox
scripts:
  post-install: |
    sleep 3
    echo slow > /etc/slow-marker
)yaml");
  Output started = h.cli({"image", "build", "tests/slow"});
  REQUIRE(started.status == 0);
  const std::string id = started.out.substr(0, started.out.find('\n'));
  // Once the machine runs its post-install (the launch itself resuming is
  // issue 19's: a kill before any machine is launched).
  REQUIRE(eventually(
      [&] {
        const Value shown = h.show(id);
        for (const auto& i : shown["instances_detail"].items()) {
          if (i["phase"].str() == "post-install") return true;
        }
        return false;
      },
      60000));
  REQUIRE(fs::make_dirs(builds_dir(h) + "/half-made/layer", 0700).ok());
  h.restart_after_crash();
  Output wait = h.cli({"wait", id, "--state", "Done", "--timeout", "120"}, "", 130000);
  INFO(wait.err << read_text(h.log()));
  CHECK(wait.status == 0);
  CHECK(builds_of(h, "tests/slow") == "local:ready");
  CHECK_FALSE(fs::exists(builds_dir(h) + "/half-made"));
  CHECK(build_dirs(h) == 1);
  CHECK(h.leftovers_text() == "");
}

TEST_CASE("a build the cloud could not snapshot, or cannot reach, is refused before it starts",
          "[e2e][qemu][images]") {
  SKIP_WITHOUT_ROOT();
  SKIP_WITHOUT_BUSYBOX_IMAGE();
  DeployHarness h("", QemuCloud::kYes);
  h.start();
  h.push(image_yaml("v1"));
  h.push("kind: image\nname: tests/on-host\nparent: base/host\n"
         "scripts: {post-install: 'true'}\n");
  // Wait for the qemu cloud: a cloud still preparing takes the order.
  REQUIRE(eventually([&] { return h.cli_json({"status"}).to_json().find("preparing") ==
                                  std::string::npos; },
                     60000));
  Output diskless = h.cli({"image", "build", "tests/built", "--cloud", "qemu"});
  CHECK(diskless.status != 0);
  CHECK(diskless.err.find("initramfs") != std::string::npos);
  Output unreachable = h.cli({"image", "build", "tests/on-host", "--cloud", "qemu"});
  CHECK(unreachable.status != 0);
  CHECK(unreachable.err.find("has no reference for qemu") != std::string::npos);
  Output unknown = h.cli({"image", "build", "tests/built", "--cloud", "nowhere"});
  CHECK(unknown.status != 0);
  CHECK(h.cli_json({"image", "list"}).items().empty());
  CHECK(h.cli_json({"list"}).items().empty());
  CHECK(h.leftovers_text() == "");
}
