// The local connector on this very host: real namespaces, overlays, a bridge
// and nftables. Needs root (CI runs as root); without it each case warns and
// returns.
//
// Every case makes its own cloud: a bridge "slwt<random>" on a random /24 in
// 10.214.0.0/16, and a data directory of its own, so cases never collide with
// each other or with a running slipwayd; each removes its bridge and nft
// table at the end. Traffic only goes to addresses on the case's own bridge.
#include <elf.h>
#include <net/if.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "common/context.h"
#include "common/crypto.h"
#include "common/fs.h"
#include "connectors/common/bridge_network.h"
#include "connectors/common/command.h"
#include "connectors/connector.h"
#include "connectors/local/launch_protocol.h"
#include "connectors/local/machine_dir.h"
#include "connectors/local/machine_network.h"
#include "connectors/local/settings.h"
#include "support/harness.h"
#include "support/icmp.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace slipway;
using namespace slipway::connectors;
using namespace slipway::test;

namespace {

#define REQUIRE_ROOT()                                              \
  do {                                                              \
    if (::geteuid() != 0) {                                         \
      WARN("the local connector needs root: this case is skipped"); \
      return;                                                       \
    }                                                               \
  } while (false)

// The machines' "agent": proves it ran with the agent's arguments, says
// something on the console, tries to undo its confinement (harmlessly: the
// hostname sysctl is the machine's own), and stays up.
constexpr const char* kAgentScript =
    "#!/bin/sh\n"
    "echo \"$@\" > /agent-started\n"
    "echo \"test agent up on $(hostname)\"\n"
    "if umount /proc/sys 2>/dev/null; then echo umounted; else echo refused; fi > /agent-umount\n"
    "if (echo x > /proc/sys/kernel/hostname) 2>/dev/null; then echo written; else echo refused; fi"
    " > /agent-sysctl\n"
    "while :; do sleep 3600; done\n";

// Where the tests' files go: on the host's root as machines see it. Not
// under /tmp, which is a fresh tmpfs in every machine (a checkout in /tmp
// would otherwise make what the tests look for invisible for that reason).
std::string working_dir() {
  char buf[PATH_MAX];
  std::string cwd = ::getcwd(buf, sizeof buf) != nullptr ? std::string(buf) : "";
  if (cwd.empty() || cwd == "/tmp" || cwd.rfind("/tmp/", 0) == 0) return "/var/tmp";
  return cwd;
}

std::string program(const std::string& name) {
  auto path = find_program(name);
  REQUIRE(path.ok());
  return *path;
}

// True when some process's command line holds `text`.
bool process_running_with(const std::string& text) {
  auto entries = fs::list_dir("/proc");
  for (const auto& name : entries.ok() ? *entries : std::vector<std::string>{}) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cmdline = fs::read_file("/proc/" + name + "/cmdline", 1 << 16);
    if (!cmdline.ok()) continue;
    for (char& c : *cmdline) c = c == '\0' ? ' ' : c;
    if (cmdline->find(text) != std::string::npos) return true;
  }
  return false;
}

// A static executable has no program interpreter (PT_INTERP).
bool statically_linked(const std::string& path) {
  auto elf = fs::read_file(path, 64 << 20);
  if (!elf.ok() || elf->size() < sizeof(Elf64_Ehdr) ||
      elf->compare(0, 4,
                   "\x7f"
                   "ELF") != 0)
    return false;
  Elf64_Ehdr header;
  std::memcpy(&header, elf->data(), sizeof header);
  for (size_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr ph;
    size_t at = header.e_phoff + i * header.e_phentsize;
    if (at + sizeof ph > elf->size()) return false;
    std::memcpy(&ph, elf->data() + at, sizeof ph);
    if (ph.p_type == PT_INTERP) return false;
  }
  return true;
}

bool interface_exists(const std::string& name) {
  return ::if_nametoindex(name.c_str()) != 0;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One local cloud for one test case, torn down with it.
class TestCloud {
 public:
  // `agent` is what machines run as their agent; the test script when empty.
  // `agent_socket_dir`: where the controller's Unix socket for agents is, if it has one.
  explicit TestCloud(Value extra_settings = Value::object(), std::string agent = "",
                     std::string agent_socket_dir = "")
      // Not in /tmp: machines get a fresh tmpfs there, which would hide the
      // data directory whether or not the connector does.
      : data_(working_dir()),
        agent_(std::move(agent)),
        agent_socket_dir_(std::move(agent_socket_dir)) {
    state_dir_ = data_.path() + "/clouds/test";
    REQUIRE(fs::make_dirs(state_dir_, 0700).ok());
    if (agent_.empty()) {
      agent_ = data_.path() + "/agent.sh";
      REQUIRE(fs::write_file_atomic(agent_, kAgentScript, 0755).ok());
    }
    secret_ = data_.path() + "/controller.key";
    REQUIRE(fs::write_file_atomic(secret_, "not really a key\n", 0600).ok());
    register_builtin_connectors(registry_);

    bridge_ = "slwt" + crypto::random_id(6);
    // A random /24, another one if some interface already has it.
    for (int attempt = 0; attempt < 5; ++attempt) {
      subnet_ = "10.214." + std::to_string(1 + crypto::random_below(254)) + ".0/24";
      settings_ = extra_settings;
      settings_.set("bridge", bridge_).set("subnet", subnet_);
      connector_ = make();
      Status prepared = connector_->prepare();
      if (prepared.ok()) return;
      INFO(prepared.error().message());
      REQUIRE(prepared.error().message().find("already used") != std::string::npos);
    }
    FAIL("no free subnet in 10.214.0.0/16");
  }

  ~TestCloud() {
    if (connector_) {
      auto reaped = connector_->reap({});
      CHECK(reaped.ok());
    }
    auto settings = local::parse_local_settings("test", settings_);
    auto tools = NetworkTools::find(true, "local");
    if (settings.ok() && tools.ok()) CHECK(remove_bridge_network(*settings, *tools).ok());
    CHECK(local::list_machine_netns(bridge_).empty());
  }

  // Another connector on the same cloud: what a restarted slipwayd makes.
  std::unique_ptr<Connector> make() {
    ConnectorEnvironment env{state_dir_, agent_, data_.path() + "/images", 7740, agent_socket_dir_};
    auto made = registry_.make(CloudConfig{"test", "local", settings_}, env);
    REQUIRE(made.ok());
    return std::move(made).value();
  }

  Connector& connector() { return *connector_; }

  MachineSpec spec(const std::string& name, Value reference = Value()) {
    MachineSpec s;
    s.machine_id = "t" + crypto::random_id(6) + "-" + name;
    s.deployment = "test";
    s.instance = name;
    s.hostname = name;
    s.context = Contextualization{"tcp://" + connector_->controller_address() + ":7740",
                                  std::string(40, 'S'),
                                  std::string(40, 'P'),
                                  std::string(40, 'K'),
                                  "test",
                                  name};
    s.reference = reference.is_null() ? Value(Value::Object{{"rootfs", "host"}}) : reference;
    s.platform = "debian";
    return s;
  }

  Machine launch_one(const MachineSpec& s) {
    auto results = connector_->launch({s}, nullptr);
    REQUIRE(results.size() == 1);
    INFO((results[0].ok() ? "" : results[0].error().message()));
    REQUIRE(results[0].ok());
    return results[0].value();
  }

  local::MachineDir dir(const std::string& id) const { return local::MachineDir(state_dir_, id); }

  local::MachineRecord record(const std::string& id) const {
    auto r = dir(id).read_record();
    REQUIRE(r.ok());
    return *r;
  }

  // Waits until the machine's agent has started.
  bool agent_started(const std::string& id) { return wrote(dir(id).upper() + "/agent-started"); }

  // Waits until the file has content: a shell creates a redirect's file
  // before it writes to it.
  static bool wrote(const std::string& path) {
    return eventually([&] { return !read_text(path).empty(); }, 10000);
  }

  // Runs a shell command inside the machine, as a user would with nsenter.
  Output in_machine(const std::string& id, const std::string& command) {
    return run(
        {program("nsenter"), "-t", std::to_string(record(id).pid), "-a", "/bin/sh", "-c", command});
  }

  std::string netns_path(const std::string& id) const {
    return std::string(local::kNetnsDir) + "/" + local::netns_name(bridge_, id);
  }

  const std::string& bridge() const { return bridge_; }
  const std::string& state_dir() const { return state_dir_; }
  const std::string& data_dir() const { return data_.path(); }
  const std::string& secret() const { return secret_; }

 private:
  TempDir data_;
  std::string state_dir_, agent_, agent_socket_dir_, secret_, bridge_, subnet_;
  Value settings_;
  ConnectorRegistry registry_;
  std::unique_ptr<Connector> connector_;
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The control group directories of a process, by controller ("" for the
// unified hierarchy), from its /proc/PID/cgroup.
std::map<std::string, std::string> cgroups_of(pid_t pid) {
  std::map<std::string, std::string> dirs;
  std::istringstream lines(read_text("/proc/" + std::to_string(pid) + "/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
      dirs[name] = "/sys/fs/cgroup/" + name + path;
    }
    if (controllers.empty()) dirs[""] = "/sys/fs/cgroup" + path;
  }
  return dirs;
}

// Launches machine "inside" with a real agent registered with `h` and
// connecting to `endpoint`; returns it once slipwayd says it is connected.
Machine launch_connected(TestCloud& cloud, Harness& h, const std::string& endpoint) {
  auto context = Contextualization::parse(read_text(h.register_agent("inside")));
  REQUIRE(context.ok());
  context->endpoint = endpoint;
  MachineSpec s = cloud.spec("inside");
  s.context = *context;
  Machine m = cloud.launch_one(s);
  INFO("console: " << cloud.connector().console_log(m.machine_id).value());
  CHECK(eventually([&] { return h.agent_state("inside") == "connected"; }, 20000));
  return m;
}

// The address `slipway status` shows for agent `name`.
std::string agent_address(Harness& h, const std::string& name) {
  Value status = h.cli_json({"status"});
  for (const auto& agent : status["agents"].items()) {
    if (agent["name"].str() == name) return agent["address"].str();
  }
  return "";
}

}  // namespace

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
  CHECK_FALSE(good.value()->capabilities().snapshot);
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

  auto described = cloud.connector().describe({m.machine_id, "no-such-machine"});
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

  REQUIRE(cloud.connector().terminate({m.machine_id}).ok());
  CHECK_FALSE(fs::exists(dir));
  CHECK_FALSE(fs::exists(cloud.netns_path(m.machine_id)));
  CHECK_FALSE(interface_exists(r.veth));
  auto stamp = local::read_process_stamp(r.pid);
  CHECK((stamp.start_time != r.start_time || stamp.state == 'Z'));
  CHECK(read_text("/proc/self/mountinfo").find(dir) == std::string::npos);
  CHECK_FALSE(process_running_with(daemon));
  CHECK(cloud.connector().describe({m.machine_id})[0].vmstate == "gone");

  CHECK(cloud.connector().terminate({m.machine_id}).ok());
  CHECK(cloud.connector().terminate({"never-existed"}).ok());
  CHECK_FALSE(cloud.connector().terminate({"../escape"}).ok());
}

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
  CHECK(restarted->describe({kept})[0].vmstate == "running");
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
  REQUIRE(cloud.connector().terminate({small.machine_id, roomy.machine_id}).ok());
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
  REQUIRE(cloud.connector().terminate(ids).ok());
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
