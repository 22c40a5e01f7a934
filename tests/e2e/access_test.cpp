// Who may see and do what, over the real control socket: a user who is not
// an admin (nobody, in the socket's group) next to root.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "support/deploy_harness.h"
#include "support/json.h"

using namespace slipway;
using namespace slipway::test;

namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

const char* kIdle =
    "kind: image\nname: e2e/idle\nparent: base/host\nscripts: {deployment: 'ss-set ready true'}\n";

}  // namespace

TEST_CASE("a user who is not an admin sees and acts on only their own", "[e2e][process]") {
  SKIP_WITHOUT_ROOT();
  DeployHarness h("control-group: nogroup\n");
  REQUIRE(::chmod(h.dir().c_str(), 0711) == 0);  // nobody reaches the socket in it
  h.start();
  auto as_nobody = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {slipway_path(), "--socket", h.socket()});
    return run_as(kNobody, kNogroup, args);
  };
  auto write_module = [&](const std::string& name, const std::string& text) {
    std::string path = h.dir() + "/" + name;
    REQUIRE(fs::write_file_atomic(path, text, 0644).ok());
    return path;
  };

  // Root's deployment, kept running with its agent connected.
  h.push(kIdle);
  Output deployed;
  std::string root_id = h.deploy({"e2e/idle", "--cloud", "process", "--wait"}, &deployed);
  REQUIRE(deployed.status == 0);

  // nobody sees none of it.
  Output status = as_nobody({"--json", "status"});
  INFO(status.err);
  REQUIRE(status.status == 0);
  auto seen = parse_json(status.out);
  REQUIRE(seen.ok());
  CHECK((*seen)["agents"].items().empty());
  CHECK(h.cli_json({"status"})["agents"].items().size() == 1);
  CHECK(as_nobody({"show", root_id}).status == 3);
  CHECK(as_nobody({"terminate", root_id}).status == 3);
  CHECK(as_nobody({"get", root_id, "idle.1:ready"}).status == 3);

  // An image that boots from a host path is an admin's to publish.
  Output raw = as_nobody({"module", "push",
                          write_module("raw.yaml",
                                       "kind: image\nname: nobody/raw\nplatform: debian\n"
                                       "reference: {local: {rootfs: /}}\n")});
  CHECK(raw.status == 6);
  CHECK(raw.err.find("only an admin may publish an image that boots from a host path") !=
        std::string::npos);

  // nobody's own module and deployment, seen by nobody and by root.
  Output pushed = as_nobody({"module", "push",
                             write_module("own.yaml",
                                          "kind: image\nname: nobody/idle\nparent: base/host\n"
                                          "scripts: {deployment: 'ss-set ready true'}\n")});
  INFO(pushed.err);
  REQUIRE(pushed.status == 0);
  Output own = as_nobody({"deploy", "nobody/idle", "--cloud", "process", "--wait"});
  INFO(own.err);
  REQUIRE(own.status == 0);
  std::string own_id = own.out.substr(0, own.out.find('\n'));
  auto mine = parse_json(as_nobody({"--json", "status"}).out);
  REQUIRE(mine.ok());
  REQUIRE((*mine)["agents"].items().size() == 1);
  CHECK((*mine)["agents"].items()[0]["name"].str() == own_id + "/idle.1");
  CHECK(h.cli_json({"status"})["agents"].items().size() == 2);

  CHECK(as_nobody({"terminate", own_id}).status == 0);
  CHECK(h.terminate_and_wait(root_id) == "Done");
}
