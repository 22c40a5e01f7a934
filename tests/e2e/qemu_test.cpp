// examples/hello end to end on the qemu cloud: a real controller, real
// virtual machines booting the busybox reference image (TCG here), their
// agents finding the contextualization on the NoCloud seed. And one
// deployment whose nodes run on local and qemu at once: the same recipes on
// any cloud.
#include <catch2/catch.hpp>

#include "support/deploy_harness.h"

using namespace slipway;
using namespace slipway::test;

namespace {

// What examples/hello's scripts set, seen through the controller.
void check_hello(DeployHarness& h, const std::string& id, const std::vector<std::string>& clients,
                 const std::string& server_prefix) {
  CHECK(h.param(id, "server.1:port") == "8080");
  std::string token = h.param(id, "server.1:token");
  CHECK(token.size() == 16);
  std::string server_address = h.param(id, "server.1:hostname");
  CHECK(server_address.rfind(server_prefix, 0) == 0);
  for (const auto& client : clients) {
    INFO(client);
    CHECK(h.param(id, client + ":server_token") == token);
    CHECK(h.param(id, client + ":server_host") == server_address);
    // The client fetched the greeting from the server over the network.
    CHECK(h.param(id, client + ":greeting").find("hello from the server") != std::string::npos);
    CHECK(h.param(id, client + ":complete") == "true");
  }
  CHECK(h.param(id, "server.1:statecustom") == "every client was greeted");
  CHECK(read_text(h.log()).find(token) == std::string::npos);
}

// What `slipway logs ID INSTANCE --console` prints.
std::string console_of(DeployHarness& h, const std::string& id, const std::string& instance) {
  Output out = h.cli({"logs", id, instance, "--console"});
  return out.status == 0 ? out.out : out.err;
}

}  // namespace

TEST_CASE("examples/hello reaches Ready on four qemu machines of the busybox image",
          "[e2e][qemu]") {
  SKIP_WITHOUT_ROOT();
  SKIP_WITHOUT_BUSYBOX_IMAGE();
  DeployHarness h("", QemuCloud::kYes);
  h.start();
  h.push_source("examples/hello");
  Output out;
  std::string id = h.deploy({"examples/hello", "--cloud", "qemu", "--wait"}, &out);
  INFO("deploy --wait said:\n" << out.err << "\nslipwayd log:\n" << read_text(h.log()));
  REQUIRE(out.status == 0);
  Value d = h.show(id);
  CHECK(d["state"].str() == "Ready");
  CHECK_FALSE(d["aborted"].as_bool());
  REQUIRE(d["instances_detail"].items().size() == 4);
  check_hello(h, id, {"client.1", "client.2", "client.3"}, h.qemu_subnet_prefix());
  for (const std::string client : {"client.1", "client.2", "client.3"}) {
    CHECK(h.param(id, client + ":hostname").rfind(h.qemu_subnet_prefix(), 0) == 0);
  }
  // The machine's console: the image's boot, then the agent.
  std::string console = console_of(h, id, "server.1");
  CHECK(console.find("slipway-init: seed /dev/vda mounted on /run/slipway/seed") !=
        std::string::npos);
  CHECK(console.find("slipway-agent 0.1.0 for " + id + "/server.1") != std::string::npos);
  // Reports came back from the machines.
  Output reports = h.cli({"reports", id, "-o", h.dir() + "/reports"});
  REQUIRE(reports.status == 0);
  CHECK(read_text(h.dir() + "/reports/client.3/greeting.txt").find("hello from the server") !=
        std::string::npos);

  CHECK(h.terminate_and_wait(id) == "Done");
  CHECK(h.leftovers_text() == "");
}

TEST_CASE("one deployment on local and qemu machines at once exchanges its parameters",
          "[e2e][qemu][local]") {
  SKIP_WITHOUT_ROOT();
  SKIP_WITHOUT_BUSYBOX_IMAGE();
  DeployHarness h("", QemuCloud::kYes);
  h.start();
  h.push_source("examples/hello");
  Output out;
  // The server boots on qemu; its two clients are local machines that wait
  // for its parameters and fetch its greeting across the two bridges.
  std::string id = h.deploy(
      {"examples/hello", "--node-cloud", "server=qemu", "--multiplicity", "client=2", "--wait"},
      &out);
  INFO("deploy --wait said:\n" << out.err << "\nslipwayd log:\n" << read_text(h.log()));
  REQUIRE(out.status == 0);
  CHECK(h.show(id)["state"].str() == "Ready");
  check_hello(h, id, {"client.1", "client.2"}, h.qemu_subnet_prefix());
  for (const std::string client : {"client.1", "client.2"}) {
    CHECK(h.param(id, client + ":hostname").rfind(h.subnet_prefix(), 0) == 0);
  }
  CHECK(h.param(id, "client:ids") == "1,2");

  CHECK(h.terminate_and_wait(id) == "Done");
  CHECK(h.leftovers_text() == "");
}

TEST_CASE("a qemu machine that never calls back aborts its deployment and leaves nothing",
          "[e2e][qemu]") {
  SKIP_WITHOUT_ROOT();
  SKIP_WITHOUT_BUSYBOX_IMAGE();
  DeployHarness h("provisioning-timeout: 8s\n", QemuCloud::kYes);
  h.start();
  // A kernel with no initramfs and no disk: it boots, finds no root file
  // system and never starts an agent.
  h.push(
      "kind: image\nname: test/lost\nplatform: busybox\nreference: {qemu: {kernel: "
      "busybox/vmlinuz}}\n"
      "scripts: {deployment: 'ss-set ready true'}\n");
  h.push("kind: deployment\nname: test/lost-d\nnodes:\n  m: {image: test/lost}\n");
  Output out;
  std::string id = h.deploy({"test/lost-d", "--cloud", "qemu", "--wait"}, &out);
  INFO("deploy --wait said:\n" << out.err << "\nslipwayd log:\n" << read_text(h.log()));
  CHECK(out.status != 0);
  Value d = h.show(id);
  CHECK(d["aborted"].as_bool());
  CHECK_THAT(d["abort_reason"].str(), Catch::Contains("m.1"));
  CHECK_THAT(d["abort_reason"].str(), Catch::Contains("did not call back"));
  // The machine was stopped with the deployment (nothing keeps a failed
  // one running by default): no qemu, no tap, no seed.
  CHECK(d["state"].str() == "Aborted");
  CHECK(h.leftovers_text() == "");
}
