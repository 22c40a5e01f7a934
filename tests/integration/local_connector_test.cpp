// The local connector on this very host: real namespaces, overlays, a bridge
// and nftables. Needs root (CI runs as root); without it each case warns and
// returns.
//
// Every case makes its own cloud: a bridge "slwt<random>" on a random /24 in
// 10.214.0.0/16, and a data directory of its own, so cases never collide with
// each other or with a running slipwayd; each removes its bridge and nft
// table at the end. Traffic only goes to addresses on the case's own bridge.
#include <catch2/catch.hpp>

#include "integration/local_test_cloud.h"

using namespace slipway;
using namespace slipway::connectors;
using namespace slipway::test;
using namespace slipway::local_test;

TEST_CASE("the local connector is registered as type local and checks its settings",
          "[integration][local]") {
  ConnectorRegistry registry;
  register_builtin_connectors(registry);
  auto types = registry.types();
  CHECK(std::find(types.begin(), types.end(), "local") != types.end());
  ConnectorEnvironment env{"/nonexistent/clouds/l", "/nonexistent/agent", "", 7740};
  auto make = [&](Value settings) {
    return registry.make(CloudConfig{"l", "local", settings}, env);
  };

  auto good = make(Value::object());
  REQUIRE(good.ok());
  CHECK(good.value()->controller_address() == "10.213.0.1");
  CHECK(good.value()->capabilities().console_log);
  CHECK(good.value()->capabilities().snapshot);
  CHECK(make(Value::object().set("subnet", "10.50.0.0/16")).value()->controller_address() ==
        "10.50.0.1");

  auto error_of = [&](Value settings) {
    auto made = make(std::move(settings));
    REQUIRE_FALSE(made.ok());
    return made.error().message();
  };
  CHECK(error_of(Value::object().set("subnet", "10.213.0.0/30")) ==
        "cloud l: subnet 10.213.0.0/30 must be a /16 to a /28");
  CHECK(error_of(Value::object().set("subnet", "10.213.0.0/8")) ==
        "cloud l: subnet 10.213.0.0/8 must be a /16 to a /28");
  CHECK(error_of(Value::object().set("subnet", "10.213.0.9/24")) ==
        "cloud l: subnet 10.213.0.9/24 has host bits set (did you mean 10.213.0.0/24?)");
  CHECK(error_of(Value::object().set("subnet", "10.213.300.0/24")) ==
        "cloud l: \"10.213.300.0\" is not an IPv4 address");
  CHECK(error_of(Value::object().set("subnet", "banana")) ==
        "cloud l: subnet \"banana\" must be written ADDRESS/PREFIX, like 10.213.0.0/24");
  CHECK(error_of(Value::object().set("bridge", "a.b")).find("bridge must be 1 to 15") !=
        std::string::npos);
  CHECK(error_of(Value::object().set("bridge", "sixteen-letters!")).find("bridge must be") !=
        std::string::npos);
  CHECK(error_of(Value::object().set("nat", "maybe")) == "cloud l: nat must be true or false");
  CHECK(error_of(Value::object().set("hide", "/srv")) ==
        "cloud l: hide must be a list of absolute paths");
  CHECK(error_of(Value::object().set("hide", Value::array().push("srv"))) ==
        "cloud l: hide must list absolute paths other than /, not \"srv\"");
  CHECK(error_of(Value::object().set("cpu-quota", "some")) ==
        "cloud l: cpu-quota must be true or false");
  CHECK(error_of(Value::object().set("colour", "blue")).find("unknown setting \"colour\"") !=
        std::string::npos);
  CHECK(make(Value::object().set("nat", "no").set("hide", Value::array().push("/srv//x/"))).ok());
}

TEST_CASE("the local cloud refuses to prepare without root, in one sentence",
          "[integration][local]") {
  ConnectorRegistry registry;
  register_builtin_connectors(registry);
  ConnectorEnvironment env{"/nonexistent/clouds/l", "/nonexistent/agent", "", 7740};
  auto made = registry.make(CloudConfig{"l", "local", Value::object()}, env);
  REQUIRE(made.ok());
  if (::geteuid() != 0) {
    CHECK(made.value()->prepare().error().message() ==
          "the local cloud needs root: run slipwayd as root");
    return;
  }
  // As root: ask a child that gave up root.
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string message = "no error";
    if (::setresuid(65534, 65534, 65534) == 0) {
      Status s = made.value()->prepare();
      if (!s.ok()) message = s.error().message();
    }
    ssize_t ignored = ::write(pipe_fds[1], message.data(), message.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buf[256];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;)
    message.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  ::waitpid(pid, nullptr, 0);
  CHECK(message == "the local cloud needs root: run slipwayd as root");
}

TEST_CASE("a local machine has its hostname, address, contextualization and agent",
          "[integration][local]") {
  REQUIRE_ROOT();
  TestCloud cloud;
  MachineSpec s = cloud.spec("web-1");
  Machine m = cloud.launch_one(s);
  CHECK(m.machine_id == s.machine_id);
  CHECK(m.vmstate == "running");
  CHECK(m.address.rfind("10.214.", 0) == 0);
  REQUIRE(cloud.agent_started(m.machine_id));

  // The agent ran as the machine's PID 1 with its documented arguments.
  CHECK(read_text(cloud.dir(m.machine_id).upper() + "/agent-started") ==
        "--context /etc/slipway/context --state-dir /var/lib/slipway-agent\n");
  CHECK(trimmed(cloud.in_machine(m.machine_id, "hostname").out) == "web-1");
  CHECK(trimmed(cloud.in_machine(m.machine_id, "cat /etc/hostname").out) == "web-1");
  CHECK(trimmed(cloud.in_machine(m.machine_id, "cat /proc/1/cmdline | tr '\\0' ' '").out)
            .find("/usr/sbin/slipway-agent --context") != std::string::npos);
  std::string eth0 = cloud.in_machine(m.machine_id, "ip -4 -o addr show dev eth0").out;
  CHECK(eth0.find(m.address + "/24") != std::string::npos);
  CHECK(cloud.in_machine(m.machine_id, "cat /etc/hosts").out.find(m.address + "\tweb-1") !=
        std::string::npos);
  CHECK(cloud.in_machine(m.machine_id, "cat /etc/slipway/context").out == s.context.to_text());
  CHECK(trimmed(cloud.in_machine(m.machine_id, "stat -c %a /etc/slipway/context").out) == "600");
  CHECK(trimmed(cloud.in_machine(m.machine_id, "/usr/sbin/policy-rc.d; echo $?").out) == "0");
  // Its own pid namespace: the agent is PID 1 and sees few processes.
  CHECK(std::stoi("0" +
                  trimmed(cloud.in_machine(m.machine_id, "ls /proc | grep -c '^[0-9]'").out)) < 10);

  // Its memory is limited to the image's (512 MiB by default), its CPU time
  // is not (no cpu-quota).
  auto groups = cgroups_of(cloud.record(m.machine_id).pid);
  if (groups.count("memory") != 0) {
    CHECK(trimmed(read_text(groups["memory"] + "/memory.limit_in_bytes")) == "536870912");
    CHECK(groups["cpu"].find("/slipway/") == std::string::npos);
  } else if (groups.count("") != 0) {
    CHECK(trimmed(read_text(groups[""] + "/memory.max")) == "536870912");
    // cpu.max is there only if the cpu controller is on in the group.
    const std::string cpu_max = groups[""] + "/cpu.max";
    if (fs::exists(cpu_max)) CHECK(trimmed(read_text(cpu_max)) == "max 100000");
  }

  auto described = cloud.connector().describe({m.machine_id, "no-such-machine"}).value();
  REQUIRE(described.size() == 2);
  CHECK(described[0].vmstate == "running");
  CHECK(described[0].address == m.address);
  CHECK(described[1].vmstate == "gone");
  auto console = cloud.connector().console_log(m.machine_id);
  REQUIRE(console.ok());
  CHECK(console->find("test agent up on web-1") != std::string::npos);
  CHECK(cloud.connector().console_log("no-such-machine").error().code() == Code::kNotFound);
}

TEST_CASE("the host and other machines reach a local machine over the bridge",
          "[integration][local]") {
  REQUIRE_ROOT();
  TestCloud cloud;
  auto results = cloud.connector().launch({cloud.spec("a"), cloud.spec("b")}, nullptr);
  REQUIRE(results.size() == 2);
  REQUIRE(results[0].ok());
  REQUIRE(results[1].ok());
  const Machine& a = results[0].value();
  const Machine& b = results[1].value();
  CHECK(a.address != b.address);
  CHECK(icmp_echo(a.address, 3000));
  CHECK(icmp_echo(b.address, 3000));
  CHECK(icmp_echo(b.address, 3000, cloud.netns_path(a.machine_id)));
  CHECK(icmp_echo(a.address, 3000, cloud.netns_path(b.machine_id)));
  // And the controller's address from inside, as agents will use it.
  CHECK(icmp_echo(cloud.connector().controller_address(), 3000, cloud.netns_path(a.machine_id)));
}

TEST_CASE("what a local machine writes stays in the machine", "[integration][local]") {
  REQUIRE_ROOT();
  TestCloud cloud;
  Machine m = cloud.launch_one(cloud.spec("writer"));
  REQUIRE(cloud.agent_started(m.machine_id));
  const std::string name = "slipway-test-" + crypto::random_id(8);
  Output wrote =
      cloud.in_machine(m.machine_id, "echo inside > /usr/bin/" + name + " && echo " + name +
                                         " >> /etc/os-release" + " && cat /usr/bin/" + name);
  CHECK(wrote.status == 0);
  CHECK(wrote.out == "inside\n");
  CHECK_FALSE(fs::exists("/usr/bin/" + name));
  CHECK(fs::exists(cloud.dir(m.machine_id).upper() + "/usr/bin/" + name));
  CHECK(read_text("/etc/os-release").find(name) == std::string::npos);
}

TEST_CASE("the controller's data directory and hidden paths are invisible in a local machine",
          "[integration][local]") {
  REQUIRE_ROOT();
  TempDir secret_dir(working_dir());
  REQUIRE(fs::write_file_atomic(secret_dir.path() + "/secret", "s3cret\n", 0600).ok());
  TestCloud cloud(Value::object().set("hide", Value::array().push(secret_dir.path())));
  Machine m = cloud.launch_one(cloud.spec("nosy"));
  REQUIRE(cloud.agent_started(m.machine_id));

  // The host's root is the machine's lower layer: a neighbour of the data
  // directory is there to read, and the hidden paths exist, empty.
  TempDir visible(working_dir());
  REQUIRE(fs::write_file_atomic(visible.path() + "/public", "hello\n", 0644).ok());
  CHECK(cloud.in_machine(m.machine_id, "cat " + visible.path() + "/public").out == "hello\n");
  CHECK(cloud.in_machine(m.machine_id, "test -d " + cloud.data_dir()).status == 0);
  CHECK(cloud.in_machine(m.machine_id, "ls -A " + cloud.data_dir()).out.empty());
  CHECK(cloud.in_machine(m.machine_id, "cat " + cloud.secret()).status != 0);
  CHECK(cloud.in_machine(m.machine_id, "ls -A " + secret_dir.path()).out.empty());
  CHECK(cloud.in_machine(m.machine_id, "cat " + secret_dir.path() + "/secret").status != 0);
  // Hidden read-only: the machine cannot plant anything there either.
  CHECK(cloud.in_machine(m.machine_id, "touch " + cloud.data_dir() + "/x").status != 0);
  // Still visible from the host.
  CHECK(fs::exists(cloud.secret()));
}

TEST_CASE("a local machine's root cannot unmount or change the kernel's settings",
          "[integration][local]") {
  REQUIRE_ROOT();
  TestCloud cloud;
  Machine m = cloud.launch_one(cloud.spec("jailed"));
  REQUIRE(cloud.agent_started(m.machine_id));
  const std::string upper = cloud.dir(m.machine_id).upper();
  REQUIRE(TestCloud::wrote(upper + "/agent-umount"));
  REQUIRE(TestCloud::wrote(upper + "/agent-sysctl"));
  CHECK(read_text(upper + "/agent-umount") == "refused\n");
  CHECK(read_text(upper + "/agent-sysctl") == "refused\n");
  // What the agent holds: no CAP_SYS_ADMIN (21), CAP_SYS_MODULE (16), CAP_MKNOD
  // (27) or CAP_DAC_READ_SEARCH (2); CAP_CHOWN (0) and CAP_SETUID (7) stay.
  std::string status =
      read_text("/proc/" + std::to_string(cloud.record(m.machine_id).pid) + "/status");
  size_t at = status.find("CapEff:\t");
  REQUIRE(at != std::string::npos);
  uint64_t effective = std::stoull(status.substr(at + 8, 16), nullptr, 16);
  for (int cap : {2, 16, 21, 27}) CHECK((effective >> cap & 1) == 0);
  for (int cap : {0, 7}) CHECK((effective >> cap & 1) == 1);
}

TEST_CASE("terminating a local machine leaves nothing behind, and again is fine",
          "[integration][local]") {
  REQUIRE_ROOT();
  TestCloud cloud;
  Machine m = cloud.launch_one(cloud.spec("doomed"));
  REQUIRE(cloud.agent_started(m.machine_id));
  local::MachineRecord r = cloud.record(m.machine_id);
  const std::string dir = cloud.dir(m.machine_id).path();
  REQUIRE(interface_exists(r.veth));
  REQUIRE(fs::exists(cloud.netns_path(m.machine_id)));
  // A process the machine started in the background dies with it.
  const std::string daemon = "sleep 77" + std::to_string(100000 + crypto::random_below(800000));
  REQUIRE(cloud.in_machine(m.machine_id, "setsid " + daemon + " >/dev/null 2>&1 &").status == 0);
  REQUIRE(eventually([&] { return process_running_with(daemon); }, 5000));

  REQUIRE(first_failure(cloud.connector().terminate({m.machine_id})).ok());
  CHECK_FALSE(fs::exists(dir));
  CHECK_FALSE(fs::exists(cloud.netns_path(m.machine_id)));
  CHECK_FALSE(interface_exists(r.veth));
  auto stamp = local::read_process_stamp(r.pid);
  CHECK((stamp.start_time != r.start_time || stamp.state == 'Z'));
  CHECK(read_text("/proc/self/mountinfo").find(dir) == std::string::npos);
  CHECK_FALSE(process_running_with(daemon));
  CHECK(cloud.connector().describe({m.machine_id}).value()[0].vmstate == "gone");

  CHECK(first_failure(cloud.connector().terminate({m.machine_id})).ok());
  CHECK(first_failure(cloud.connector().terminate({"never-existed"})).ok());
  CHECK_FALSE(first_failure(cloud.connector().terminate({"../escape"})).ok());
  // A batch answers for each machine: the bad id fails alone.
  auto each = cloud.connector().terminate({m.machine_id, "../escape", "never-existed"});
  REQUIRE(each.size() == 3);
  CHECK(each[0].ok());
  CHECK_FALSE(each[1].ok());
  CHECK(each[2].ok());
  // A cloud that cannot be asked says so; it does not call its machines gone.
  REQUIRE(fs::remove_tree(cloud.state_dir()).ok());
  auto unasked = cloud.connector().describe({m.machine_id});
  REQUIRE_FALSE(unasked.ok());
  CHECK(unasked.error().code() == Code::kUnavailable);
  CHECK_THAT(unasked.error().message(), Catch::Contains("cannot be asked"));
}
