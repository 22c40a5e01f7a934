// The local connector's machines under strain: reaps after a crash, bad
// images, resource limits, a batch of twenty, real agents calling back.
// Shares local_test_cloud.h with local_connector_test.cpp (root only).
#include <catch2/catch.hpp>

#include "integration/local_test_cloud.h"

using namespace slipway;
using namespace slipway::connectors;
using namespace slipway::test;
using namespace slipway::local_test;

TEST_CASE("local reap removes the machines nobody keeps and namespaces without a directory",
          "[integration][local]") {
  REQUIRE_ROOT();
  TestCloud cloud;
  auto results = cloud.connector().launch({cloud.spec("kept"), cloud.spec("orphan")}, nullptr);
  REQUIRE(results[0].ok());
  REQUIRE(results[1].ok());
  const std::string kept = results[0].value().machine_id;
  const std::string orphan = results[1].value().machine_id;
  const std::string ghost = "ghost-" + crypto::random_id(4);
  REQUIRE(run({program("ip"), "netns", "add", local::netns_name(cloud.bridge(), ghost)}).status ==
          0);

  // What slipwayd does after a crash: a new connector, told what to keep.
  auto restarted = cloud.make();
  REQUIRE(restarted->prepare().ok());
  auto reaped = restarted->reap({kept});
  REQUIRE(reaped.ok());
  std::vector<std::string> expected = {ghost, orphan};
  std::sort(expected.begin(), expected.end());
  CHECK(*reaped == expected);
  CHECK_FALSE(cloud.dir(orphan).exists());
  CHECK(local::list_machine_netns(cloud.bridge()) == std::vector<std::string>{kept});
  CHECK(restarted->describe({kept}).value()[0].vmstate == "running");
  // The restarted connector knows the kept machine's address is taken.
  auto next = restarted->launch({cloud.spec("next")}, nullptr);
  REQUIRE(next[0].ok());
  CHECK(next[0]->address != results[0]->address);
}

TEST_CASE("local reap removes a control group whose machine is otherwise gone",
          "[integration][local]") {
  REQUIRE_ROOT();
  TestCloud cloud;
  // What a launch leaves when removing its group failed after a crash of
  // everything else: a group named like the cloud's namespaces, nothing more.
  const std::string name = local::netns_name(cloud.bridge(), "t" + crypto::random_id(6) + "-torn");
  std::vector<std::string> made;
  for (const char* parent : {"/sys/fs/cgroup/slipway", "/sys/fs/cgroup/memory/slipway"}) {
    if (!fs::exists(std::string(parent) + "/cgroup.procs")) continue;
    const std::string dir = std::string(parent) + "/" + name;
    REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    made.push_back(dir);
  }
  if (made.empty()) {
    WARN("this host has no memory cgroup for slipway: the case is skipped");
    return;
  }
  auto reaped = cloud.connector().reap({});
  REQUIRE(reaped.ok());
  CHECK(*reaped ==
        std::vector<std::string>{name.substr(local::netns_prefix(cloud.bridge()).size())});
  for (const auto& dir : made) {
    INFO(dir);
    CHECK_FALSE(fs::exists(dir));
  }
}

TEST_CASE("a bad rootfs for a local machine fails with a clear error and leaves nothing",
          "[integration][local]") {
  REQUIRE_ROOT();
  TestCloud cloud;
  TempDir empty(working_dir());
  auto error_of = [&](const std::string& rootfs) {
    MachineSpec s = cloud.spec("bad", Value(Value::Object{{"rootfs", rootfs}}));
    auto results = cloud.connector().launch({s}, nullptr);
    REQUIRE_FALSE(results[0].ok());
    CHECK_FALSE(cloud.dir(s.machine_id).exists());
    return results[0].error().message();
  };
  CHECK(error_of("/nonexistent/rootfs").find("rootfs /nonexistent/rootfs does not exist") !=
        std::string::npos);
  CHECK(error_of(empty.path()).find("rootfs " + empty.path() + " has no /bin/sh or /usr/bin/sh") !=
        std::string::npos);
  CHECK(error_of("no-such-image").find("rootfs \"no-such-image\" names no built image") !=
        std::string::npos);
  CHECK(error_of("relative/dir")
            .find("must be host, an absolute directory or the name of an image") !=
        std::string::npos);
  CHECK(error_of("").find("must name a rootfs") != std::string::npos);
  CHECK(local::list_machine_netns(cloud.bridge()).empty());
  CHECK(fs::list_dir(cloud.state_dir() + "/machines")->empty());
}

TEST_CASE("a local machine whose agent cannot start fails cleanly", "[integration][local]") {
  REQUIRE_ROOT();
  TempDir dir(working_dir());
  const std::string broken = dir.path() + "/not-a-program";
  REQUIRE(fs::write_file_atomic(broken, "neither ELF nor #!\n", 0755).ok());
  TestCloud cloud(Value::object(), broken);
  MachineSpec s = cloud.spec("broken");
  auto results = cloud.connector().launch({s}, nullptr);
  REQUIRE_FALSE(results[0].ok());
  CHECK(results[0].error().message() ==
        "cannot launch machine " + s.machine_id +
            ": cannot start /usr/sbin/slipway-agent in the machine: Exec format error");
  // The launcher got as far as the network and the mounts: all undone.
  CHECK_FALSE(cloud.dir(s.machine_id).exists());
  CHECK(local::list_machine_netns(cloud.bridge()).empty());
  CHECK_FALSE(interface_exists(local::veth_name(local::netns_name(cloud.bridge(), s.machine_id))));
}

TEST_CASE("a local machine lives within its image's memory, and cpus too with cpu-quota",
          "[integration][local]") {
  REQUIRE_ROOT();
  TempDir dir(working_dir());
  // The agent tries to hold 200 MiB at once (tail keeps the whole of its
  // last line) and records how that went.
  const std::string agent = dir.path() + "/hungry-agent.sh";
  REQUIRE(fs::write_file_atomic(agent,
                                "#!/bin/sh\n"
                                "head -c 200M /dev/zero | tail -n 1 >/dev/null\n"
                                "echo $? > /hungry\n"
                                "while :; do sleep 3600; done\n",
                                0755)
              .ok());
  TestCloud cloud(Value::object().set("cpu-quota", true), agent);
  MachineSpec small = cloud.spec("small");
  small.resources.memory_mb = 64;
  small.resources.cpus = 2;
  MachineSpec roomy = cloud.spec("roomy");  // the default 512 MiB
  auto results = cloud.connector().launch({small, roomy}, nullptr);
  REQUIRE(results.size() == 2);
  for (const auto& r : results) {
    INFO((r.ok() ? "" : r.error().message()));
    REQUIRE(r.ok());
  }
  REQUIRE(TestCloud::wrote(cloud.dir(small.machine_id).upper() + "/hungry"));
  REQUIRE(TestCloud::wrote(cloud.dir(roomy.machine_id).upper() + "/hungry"));
  // Killed by the kernel in the 64 MiB machine, fine in the other.
  CHECK(trimmed(read_text(cloud.dir(small.machine_id).upper() + "/hungry")) == "137");
  CHECK(trimmed(read_text(cloud.dir(roomy.machine_id).upper() + "/hungry")) == "0");

  // The limits as the kernel holds them, for the machine's PID 1.
  auto groups = cgroups_of(cloud.record(small.machine_id).pid);
  std::vector<std::string> dirs;
  if (groups.count("memory") != 0) {  // the legacy hierarchies
    dirs = {groups["memory"], groups["cpu"]};
    CHECK(trimmed(read_text(groups["memory"] + "/memory.limit_in_bytes")) == "67108864");
    CHECK(trimmed(read_text(groups["cpu"] + "/cpu.cfs_quota_us")) == "200000");
    CHECK(trimmed(read_text(groups["cpu"] + "/cpu.cfs_period_us")) == "100000");
  } else {
    REQUIRE(groups.count("") == 1);
    dirs = {groups[""]};
    CHECK(trimmed(read_text(groups[""] + "/memory.max")) == "67108864");
    CHECK(trimmed(read_text(groups[""] + "/cpu.max")) == "200000 100000");
  }
  for (const auto& d : dirs) {
    INFO(d);
    CHECK(d.find("/slipway/" + local::netns_name(cloud.bridge(), small.machine_id)) !=
          std::string::npos);
  }

  // Terminate takes the groups with the machine.
  REQUIRE(first_failure(cloud.connector().terminate({small.machine_id, roomy.machine_id})).ok());
  for (const auto& d : dirs) {
    INFO(d);
    CHECK_FALSE(fs::exists(d));
  }
}

TEST_CASE("a local machine on a directory rootfs sees only that rootfs", "[integration][local]") {
  REQUIRE_ROOT();
  auto busybox = find_program("busybox");
  if (!busybox.ok() || !statically_linked(*busybox)) {
    WARN("no static busybox to build a rootfs from: this case is skipped");
    return;
  }
  TestCloud cloud;
  TempDir rootfs(working_dir());
  REQUIRE(fs::make_dirs(rootfs.path() + "/bin", 0755).ok());
  REQUIRE(run({program("cp"), *busybox, rootfs.path() + "/bin/busybox"}).status == 0);
  for (const char* applet : {"sh", "echo", "sleep", "hostname", "cat", "ls"}) {
    REQUIRE(::symlink("busybox", (rootfs.path() + "/bin/" + applet).c_str()) == 0);
  }
  MachineSpec s = cloud.spec("tiny", Value(Value::Object{{"rootfs", rootfs.path()}}));
  s.platform = "busybox";
  Machine m = cloud.launch_one(s);
  REQUIRE(cloud.agent_started(m.machine_id));
  CHECK(trimmed(cloud.in_machine(m.machine_id, "hostname").out) == "tiny");
  CHECK(cloud.in_machine(m.machine_id, "ls /bin").out.find("busybox") != std::string::npos);
  CHECK(cloud.in_machine(m.machine_id, "ls /usr/bin").out.find("busybox") == std::string::npos);
  CHECK_FALSE(fs::exists(cloud.dir(m.machine_id).upper() + "/usr/sbin/policy-rc.d"));
  // The lower layer stays as it was.
  CHECK_FALSE(fs::exists(rootfs.path() + "/agent-started"));
  CHECK(icmp_echo(m.address, 3000));
}

TEST_CASE("twenty local machines launch in one batch", "[integration][local]") {
  REQUIRE_ROOT();
  TestCloud cloud;
  std::vector<MachineSpec> specs;
  for (int i = 1; i <= 20; ++i) specs.push_back(cloud.spec("n" + std::to_string(i)));
  // What progress is told, from the launching threads (Catch's assertions
  // are for this thread only).
  std::mutex mutex;
  std::map<size_t, std::string> told;  // index: machine id or error
  int told_twice = 0;
  auto start = std::chrono::steady_clock::now();
  auto results = cloud.connector().launch(specs, [&](size_t i, const Result<Machine>& m) {
    std::lock_guard lock(mutex);
    told_twice += told.count(i) ? 1 : 0;
    told[i] = m.ok() ? m->machine_id : m.error().message();
  });
  double launched = seconds_since(start);
  CHECK(told.size() == 20);
  CHECK(told_twice == 0);
  std::set<std::string> addresses;
  std::vector<std::string> ids;
  for (auto& r : results) {
    INFO((r.ok() ? "" : r.error().message()));
    REQUIRE(r.ok());
    addresses.insert(r->address);
    ids.push_back(r->machine_id);
    CHECK(told[ids.size() - 1] == r->machine_id);
  }
  CHECK(addresses.size() == 20);
  for (const auto& r : results) CHECK(icmp_echo(r.value().address, 3000));
  start = std::chrono::steady_clock::now();
  REQUIRE(first_failure(cloud.connector().terminate(ids)).ok());
  double terminated = seconds_since(start);
  std::printf("local connector: 20 machines launched in %.2f s, terminated in %.2f s\n", launched,
              terminated);
  CHECK(local::list_machine_netns(cloud.bridge()).empty());
  CHECK(fs::list_dir(cloud.state_dir() + "/machines")->empty());
}

TEST_CASE("a real agent in a local machine connects back to slipwayd over the bridge",
          "[integration][local]") {
  REQUIRE_ROOT();
  TestCloud cloud(Value::object(), agent_path());
  const std::string controller = cloud.connector().controller_address();
  // Listening on the cloud's bridge only, as slipwayd would for its machines.
  Harness h("", "tcp://" + controller + ":*");
  h.start();
  Machine m =
      launch_connected(cloud, h, "tcp://" + controller + ":" + std::to_string(h.agent_port()));
  CHECK(agent_address(h, "inside") == m.address);
}

TEST_CASE("a real agent in a local machine reaches slipwayd through its Unix socket",
          "[integration][local]") {
  REQUIRE_ROOT();
  // slipwayd listens on loopback only: the machine has no TCP path to it.
  Harness h;
  h.start();
  const std::string socket_dir = h.dir() + "/data/" + kAgentSocketDir;
  TestCloud cloud(Value::object(), agent_path(), socket_dir);
  const std::string endpoint = cloud.connector().agent_endpoint();
  CHECK(endpoint == "ipc:///run/slipway-controller/agent.sock");
  Machine m = launch_connected(cloud, h, endpoint);
  CHECK(agent_address(h, "inside") == "local socket");
  // The machine sees the socket's directory and nothing else of the data
  // directory, and cannot write there.
  auto listing = cloud.in_machine(m.machine_id, "ls -A /run/slipway-controller");
  CHECK(trimmed(listing.out) == kAgentSocketName);
  auto write = cloud.in_machine(m.machine_id, "touch /run/slipway-controller/x");
  CHECK(write.status != 0);
  CHECK_FALSE(fs::exists(socket_dir + "/x"));
}
