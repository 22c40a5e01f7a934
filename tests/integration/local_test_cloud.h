// The local connector on this very host: real namespaces, overlays, a bridge
// and nftables. Needs root (CI runs as root); without it each case warns and
// returns.
//
// Every case makes its own cloud: a bridge "slwt<random>" on a random /24 in
// 10.214.0.0/16, and a data directory of its own, so cases never collide with
// each other or with a running slipwayd; each removes its bridge and nft
// table at the end. Traffic only goes to addresses on the case's own bridge.
//
// What the local connector's test cases share: a TestCloud of their own
// and the helpers that look at its machines.
#pragma once

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

namespace slipway::local_test {

using namespace slipway;
using namespace slipway::connectors;
using namespace slipway::test;

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
inline std::string working_dir() {
  char buf[PATH_MAX];
  std::string cwd = ::getcwd(buf, sizeof buf) != nullptr ? std::string(buf) : "";
  if (cwd.empty() || cwd == "/tmp" || cwd.rfind("/tmp/", 0) == 0) return "/var/tmp";
  return cwd;
}

inline std::string program(const std::string& name) {
  auto path = find_program(name);
  REQUIRE(path.ok());
  return *path;
}

// True when some process's command line holds `text`.
inline bool process_running_with(const std::string& text) {
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
inline bool statically_linked(const std::string& path) {
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

inline bool interface_exists(const std::string& name) {
  return ::if_nametoindex(name.c_str()) != 0;
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
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

inline std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The control group directories of a process, by controller ("" for the
// unified hierarchy), from its /proc/PID/cgroup.
inline std::map<std::string, std::string> cgroups_of(pid_t pid) {
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
inline Machine launch_connected(TestCloud& cloud, Harness& h, const std::string& endpoint) {
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
inline std::string agent_address(Harness& h, const std::string& name) {
  Value status = h.cli_json({"status"});
  for (const auto& agent : status["agents"].items()) {
    if (agent["name"].str() == name) return agent["address"].str();
  }
  return "";
}

}  // namespace slipway::local_test
