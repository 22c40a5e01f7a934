// The local connector's pure parts: subnet arithmetic, machine records and
// the names reap() relies on. (The connector itself is tested on the host in
// tests/integration/local_connector_test.cpp.)
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "common/fs.h"
#include "connectors/common/machines.h"
#include "connectors/common/pidfd.h"
#include "connectors/local/launcher/launch_request.h"
#include "connectors/local/machine_cgroup.h"
#include "connectors/local/machine_dir.h"
#include "connectors/local/machine_process.h"
#include "connectors/local/settings.h"

using namespace slipway;
using namespace slipway::connectors;
using namespace slipway::connectors::local;

namespace {

std::string contents(const std::string& path) {
  auto text = fs::read_file(path, 4096);
  return text.ok() ? *text : "(" + text.error().message() + ")";
}

// The launcher's main() reads its command line with parse_launch_request.
Result<LaunchRequest> parse_launch(std::vector<std::string> words) {
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  return launcher::parse_launch_request(static_cast<int>(argv.size()), argv.data());
}

LaunchRequest every_launch_argument() {
  LaunchRequest args;
  args.machine_dir = "/var/lib/slipway/machines/slw3a-web-1";
  args.lower = "/";
  args.netns = "/run/netns/slw3a-web-1";
  args.hostname = "web-1";
  args.address = "10.213.0.7/24";
  args.gateway = "10.213.0.1";
  args.hide = {"/var/lib/slipway", "/root"};
  args.cgroups = {"/sys/fs/cgroup/memory/slipway/slw3a-web-1", "/sys/fs/cgroup/pids/slipway/x"};
  args.agent_socket_dir = "/var/lib/slipway/agent-socket";
  args.command = {"/usr/sbin/slipway-agent", "--context", "/etc/slipway/context"};
  return args;
}

// `words` with the value after `flag` replaced, or the flag and its value
// dropped when `value` is null.
std::vector<std::string> with(std::vector<std::string> words, const std::string& flag,
                              const char* value) {
  auto at = std::find(words.begin(), words.end(), flag);
  REQUIRE(at != words.end());
  if (value == nullptr)
    words.erase(at, at + 2);
  else
    *(at + 1) = value;
  return words;
}

}  // namespace

TEST_CASE("local subnets give the bridge .1 and machines the rest but broadcast", "[unit][local]") {
  auto s28 = Ipv4Subnet::parse("10.213.0.16/28");
  REQUIRE(s28.ok());
  CHECK(format_ipv4(s28->bridge_address()) == "10.213.0.17");
  CHECK(format_ipv4(s28->first_machine_address()) == "10.213.0.18");
  CHECK(format_ipv4(s28->last_machine_address()) == "10.213.0.30");
  auto s16 = Ipv4Subnet::parse("10.213.0.0/16");
  REQUIRE(s16.ok());
  CHECK(format_ipv4(s16->last_machine_address()) == "10.213.255.254");
  CHECK(s16->contains(*parse_ipv4("10.213.77.1")));
  CHECK_FALSE(s16->contains(*parse_ipv4("10.214.0.1")));
  for (const char* bad : {"10.213.0.0", "10.213.0.0/", "10.213.0.0/x", "10.213.0/24",
                          "1.2.3.4.5/24", "256.0.0.0/24", "10.213.0.0/29", "10.213.0.0/15"}) {
    INFO(bad);
    CHECK_FALSE(Ipv4Subnet::parse(bad).ok());
  }
}

TEST_CASE("a local machine record survives a round trip and refuses to be half", "[unit][local]") {
  MachineRecord r;
  r.machine_id = "k3v9x2qa-web.2";
  r.hostname = "web-2";
  r.address = *parse_ipv4("10.213.0.7");
  r.netns = netns_name("slipway0", r.machine_id);
  r.veth = veth_name(r.netns);
  r.pid = 4242;
  r.start_time = 123456789012ULL;
  auto back = MachineRecord::parse(r.to_text());
  REQUIRE(back.ok());
  CHECK(back->to_text() == r.to_text());
  CHECK_FALSE(MachineRecord::parse("machine_id=x\n").ok());
  CHECK_FALSE(MachineRecord::parse(r.to_text() + "address=10.213.0.999\n").ok());
}

TEST_CASE("local machine names are safe and fit the kernel's limits", "[unit][local]") {
  CHECK(check_machine_id("k3v9x2qa-web.2").ok());
  for (const char* bad : {"", ".hidden", "../x", "a/b", "sp ace"})
    CHECK_FALSE(check_machine_id(bad).ok());
  CHECK_FALSE(check_machine_id(std::string(65, 'a')).ok());
  const std::string ns = netns_name("slipway0", "k3v9x2qa-web.2");
  CHECK(ns == "slw-slipway0.k3v9x2qa-web.2");
  CHECK(ns.rfind(netns_prefix("slipway0"), 0) == 0);
  CHECK(veth_name(ns).size() <= 15);
  CHECK(veth_name(ns) != veth_name(netns_name("slipway0", "k3v9x2qa-web.3")));
  CHECK(mac_for(*parse_ipv4("10.213.0.7")) == "02:53:0a:d5:00:07");
}

TEST_CASE("waiting on pidfds returns when all have exited, at once when there are none",
          "[local]") {
  using namespace std::chrono;
  std::vector<pollfd> none;
  auto started = steady_clock::now();
  CHECK(connectors::wait_exited(none, seconds(5)));
  CHECK(steady_clock::now() - started < seconds(1));

  pid_t quick = ::fork();
  if (quick == 0) ::_exit(0);
  pid_t slow = ::fork();
  if (slow == 0) {
    ::pause();
    ::_exit(0);
  }
  connectors::Fd quick_fd(connectors::pidfd_open(quick));
  connectors::Fd slow_fd(connectors::pidfd_open(slow));
  REQUIRE(quick_fd.fd >= 0);
  REQUIRE(slow_fd.fd >= 0);
  CHECK(connectors::wait_exited(quick_fd.fd, seconds(5)));
  std::vector<pollfd> both{{quick_fd.fd, POLLIN, 0}, {slow_fd.fd, POLLIN, 0}};
  CHECK_FALSE(connectors::wait_exited(both, milliseconds(50)));
  CHECK(connectors::pidfd_kill(slow_fd.fd));
  both = {{quick_fd.fd, POLLIN, 0}, {slow_fd.fd, POLLIN, 0}};
  CHECK(connectors::wait_exited(both, seconds(5)));
  ::waitpid(quick, nullptr, 0);
  ::waitpid(slow, nullptr, 0);
}

// The unified hierarchy cannot be had on a host that mounts the legacy one
// (the integration test runs the real thing on whichever this host has), so
// its file protocol is checked on a directory laid out like it.
TEST_CASE("machine limits in a unified cgroup hierarchy go where the kernel reads them",
          "[unit][local]") {
  char tmpl[] = "/tmp/slipway-cgroup-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string root = tmpl;
  const std::string group = root + "/slipway/slwX-m1";
  REQUIRE(fs::make_dirs(group, 0755).ok());
  for (const char* file : {"/cgroup.subtree_control", "/slipway/cgroup.subtree_control",
                           "/slipway/slwX-m1/memory.max", "/slipway/slwX-m1/cpu.max"}) {
    REQUIRE(fs::write_file_atomic(root + file, "", 0644).ok());
  }

  SECTION("without memory and cpu controllers there are no limits, and it says why") {
    REQUIRE(fs::write_file_atomic(root + "/cgroup.controllers", "cpuset io pids\n", 0644).ok());
    CgroupLayout layout = CgroupLayout::detect(true, root);
    CHECK_FALSE(layout.available());
    CHECK(layout.why_not() ==
          "the cgroup hierarchy at " + root + " offers no memory and cpu controllers");
    CHECK_FALSE(layout.create("slwX-m1", {}).ok());
    CHECK(layout.remove("slwX-m1").ok());
  }
  SECTION("with them, the machine's group gets its memory and cpu limits") {
    REQUIRE(fs::write_file_atomic(root + "/cgroup.controllers", "cpuset cpu io memory pids\n", 0644)
                .ok());
    CgroupLayout layout = CgroupLayout::detect(true, root);
    REQUIRE(layout.available());
    CHECK(contents(root + "/cgroup.subtree_control") == "+memory +cpu");
    CHECK(contents(root + "/slipway/cgroup.subtree_control") == "+memory +cpu");
    auto dirs = layout.create("slwX-m1", ResourceLimits{3, 96});
    REQUIRE(dirs.ok());
    CHECK(*dirs == std::vector<std::string>{group});
    CHECK(contents(group + "/memory.max") == "100663296");
    CHECK(contents(group + "/cpu.max") == "300000 100000");
    CHECK_FALSE(fs::exists(group + "/memory.swap.max"));  // only where the kernel has it
    CHECK_FALSE(layout.create("../escape", {}).ok());
    CHECK_FALSE(layout.create("", {}).ok());

    // reap() finds groups by the cloud's prefix.
    REQUIRE(fs::write_file_atomic(group + "/cgroup.procs", "", 0644).ok());
    CHECK(layout.list("slwX-") == std::vector<std::string>{"slwX-m1"});
    CHECK(layout.list("slwY-").empty());
    // A group left by an earlier machine of that name is reused only empty.
    // (A kernel file takes each write whole; this plain one must be emptied.)
    REQUIRE(fs::write_file_atomic(group + "/memory.max", "", 0644).ok());
    CHECK(layout.create("slwX-m1", ResourceLimits{1, 64}).ok());
    CHECK(contents(group + "/memory.max") == "67108864");
    REQUIRE(fs::write_file_atomic(group + "/cgroup.procs", "4242\n", 0644).ok());
    auto busy = layout.create("slwX-m1", ResourceLimits{1, 64});
    REQUIRE_FALSE(busy.ok());
    CHECK(busy.error().message() == "cannot limit the machine's resources: control group " + group +
                                        " still holds processes of an earlier machine");
  }
  SECTION("without cpu-quota only memory is limited, and the cpu controller is not needed") {
    REQUIRE(fs::write_file_atomic(root + "/cgroup.controllers", "io memory\n", 0644).ok());
    CgroupLayout layout = CgroupLayout::detect(false, root);
    REQUIRE(layout.available());
    CHECK(contents(root + "/slipway/cgroup.subtree_control") == "+memory");
    REQUIRE(layout.create("slwX-m1", ResourceLimits{3, 96}).ok());
    CHECK(contents(group + "/memory.max") == "100663296");
    CHECK(contents(group + "/cpu.max").empty());
    CHECK_FALSE(CgroupLayout::detect(true, root).available());
  }
  SECTION("a group the kernel refuses to limit is removed again") {
    REQUIRE(fs::write_file_atomic(root + "/cgroup.controllers", "cpu memory\n", 0644).ok());
    CgroupLayout layout = CgroupLayout::detect(true, root);
    REQUIRE(layout.available());
    auto made = layout.create("slwX-m2", {});  // no memory.max in it: the write fails
    REQUIRE_FALSE(made.ok());
    CHECK(made.error().message().rfind("cannot limit the machine's resources: cannot write", 0) ==
          0);
    CHECK_FALSE(fs::exists(root + "/slipway/slwX-m2"));
  }
  CHECK(fs::remove_tree(root).ok());
}

TEST_CASE("a host without cgroup controllers runs machines without limits, saying so",
          "[unit][local]") {
  CgroupLayout layout = CgroupLayout::detect(true, "/nonexistent-cgroup-root");
  CHECK_FALSE(layout.available());
  CHECK(layout.why_not() ==
        "no cgroup memory and cpu controllers are mounted under /nonexistent-cgroup-root");
  CHECK(CgroupLayout::detect(false, "/nonexistent-cgroup-root").why_not() ==
        "no cgroup memory controller is mounted under /nonexistent-cgroup-root");
}

TEST_CASE("the launcher reads back every field of the command line slipwayd writes for it",
          "[unit][local]") {
  LaunchRequest args = every_launch_argument();
  auto request = parse_launch(launch_command("/usr/libexec/slipway/slipway-local-launch", args));
  REQUIRE(request.ok());
  CHECK(request->machine_dir == args.machine_dir);
  CHECK(request->lower == args.lower);
  CHECK(request->netns == args.netns);
  CHECK(request->hostname == args.hostname);
  CHECK(request->address == args.address);
  CHECK(request->gateway == args.gateway);
  CHECK(request->hide == args.hide);
  CHECK(request->cgroups == args.cgroups);
  CHECK(request->agent_socket_dir == args.agent_socket_dir);
  CHECK(request->command == args.command);

  // The optional ones left out: no address, nothing hidden, no limits, TCP.
  args.address.clear();
  args.gateway.clear();
  args.hide.clear();
  args.cgroups.clear();
  args.agent_socket_dir.clear();
  request = parse_launch(launch_command("/l", args));
  REQUIRE(request.ok());
  CHECK(request->address.empty());
  CHECK(request->gateway.empty());
  CHECK(request->hide.empty());
  CHECK(request->cgroups.empty());
  CHECK(request->agent_socket_dir.empty());
  CHECK(request->command == args.command);
}

TEST_CASE("the launcher refuses a bad command line with one sentence saying what is wrong",
          "[unit][local]") {
  const std::vector<std::string> good = launch_command("/l", every_launch_argument());
  REQUIRE(parse_launch(good).ok());
  std::vector<std::string> relative_command = good;
  *(std::find(relative_command.begin(), relative_command.end(), "--") + 1) = "usr/sbin/agent";
  std::vector<std::string> no_command(good.begin(), std::find(good.begin(), good.end(), "--") + 1);
  std::vector<std::string> unknown = good;
  unknown.insert(unknown.begin() + 1, {"--bogus", "1"});

  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {with(good, "--dir", "machines/slw3a-web-1"),
       "--dir, --lower and --netns need absolute paths"},
      {with(good, "--netns", nullptr), "--dir, --lower and --netns need absolute paths"},
      {with(good, "--lower", ""), "--dir, --lower and --netns need absolute paths"},
      {with(good, "--hostname", nullptr), "--hostname needs a host name"},
      {with(good, "--hostname", std::string(65, 'h').c_str()), "--hostname needs a host name"},
      {with(good, "--gateway", nullptr), "--address and --gateway go together"},
      {with(good, "--address", nullptr), "--address and --gateway go together"},
      {with(good, "--hide", "root"), "--hide needs an absolute path"},
      {with(good, "--cgroup", "slipway/x"), "--cgroup needs an absolute path"},
      {with(good, "--agent-socket-dir", "agent-socket"),
       "--agent-socket-dir needs an absolute path"},
      {unknown, "unknown option --bogus"},
      {{"/l", "--dir"}, "--dir needs a value"},
      {relative_command, "the command after -- must start with an absolute path"},
      {no_command, "the command after -- must start with an absolute path"},
  };
  for (const auto& [words, why] : cases) {
    auto request = parse_launch(words);
    INFO(why);
    REQUIRE_FALSE(request.ok());
    CHECK(request.error().code() == Code::kUsage);
    CHECK(request.error().message().rfind("slipway-local-launch: " + why, 0) == 0);
  }
}

TEST_CASE("a batch launch tells of each machine as it comes up, not once the last has",
          "[unit][connectors]") {
  std::vector<MachineSpec> specs(2);
  specs[0].machine_id = "late";
  specs[1].machine_id = "early";
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<size_t> told;
  auto results = launch_machines(
      specs, 2,
      [&](const MachineSpec& spec) -> Result<Machine> {
        if (spec.machine_id == "late") {
          // Comes up only once the early machine has been told of.
          std::unique_lock lock(mutex);
          if (!changed.wait_for(lock, std::chrono::seconds(10), [&] { return !told.empty(); }))
            return Error(Code::kTimeout,
                         "the early machine was not told of while this one started");
        }
        return Machine{spec.machine_id, "10.213.0.2", "running"};
      },
      [&](size_t i, const Result<Machine>&) {
        {
          std::lock_guard lock(mutex);
          told.push_back(i);
        }
        changed.notify_all();
      });
  REQUIRE(results.size() == 2);
  INFO((results[0].ok() ? "" : results[0].error().message()));
  REQUIRE(results[0].ok());
  CHECK(results[0]->machine_id == "late");
  CHECK(results[1]->machine_id == "early");
  CHECK(told == std::vector<size_t>{1, 0});
}
