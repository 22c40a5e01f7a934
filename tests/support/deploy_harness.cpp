#include "support/deploy_harness.h"

#include <dirent.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <climits>
#include <csignal>
#include <fstream>
#include <sstream>

#include "common/fs.h"
#include "support/json.h"

namespace slipway::test {

namespace {

// A number distinct per test process (ctest runs them in parallel) and per
// harness within one: it names the bridge and picks the /24.
int unique_number() {
  static int counter = 0;
  return (::getpid() * 16 + counter++) % 12800;
}

std::string config_for(const std::string& bridge, const std::string& subnet,
                       const std::string& qemu_cloud, const std::string& extra) {
  // A test may set its own provisioning timeout; keys appear once.
  const bool own_timeout = extra.find("provisioning-timeout:") != std::string::npos;
  return std::string(
             "heartbeat-interval: 500ms\n"
             "heartbeat-timeout: 5s\n") +
         (own_timeout ? "" : "provisioning-timeout: 60s\n") +
         "default-cloud: local\n"
         "clouds:\n"
         "  local: {bridge: " +
         bridge + ", subnet: " + subnet +
         "}\n"
         "  process: {}\n" +
         qemu_cloud + extra;
}

}  // namespace

bool can_run_machines() {
  return ::geteuid() == 0;
}

std::string source_dir() {
  return SLIPWAY_SOURCE_DIR;
}

DeployHarness::DeployHarness(const std::string& extra_config, QemuCloud qemu)
    : Harness("", "tcp://0.0.0.0:*") {
  int n = unique_number();
  bridge_ = "slwe" + std::to_string(n);
  subnet_prefix_ = "10." + std::to_string(200 + n / 256) + "." + std::to_string(n % 256) + ".";
  std::string qemu_cloud;
  if (qemu == QemuCloud::kYes) {
    // 10.250.0.0 to 10.254.255.0: clear of the local clouds' 10.200-10.249.
    int m = n % 1280;
    qemu_bridge_ = "slwq" + std::to_string(n);
    qemu_subnet_prefix_ =
        "10." + std::to_string(250 + m / 256) + "." + std::to_string(m % 256) + ".";
    qemu_cloud =
        "  qemu: {bridge: " + qemu_bridge_ + ", subnet: " + qemu_subnet_prefix_ + "0/24}\n";
  }
  std::string config = config_for(bridge_, subnet_prefix_ + "0/24", qemu_cloud, extra_config);
  REQUIRE(fs::write_file_atomic(dir() + "/slipway.yaml", config, 0644).ok());
  set_config(dir() + "/slipway.yaml");
}

DeployHarness::~DeployHarness() {
  terminate();
  if (!can_run_machines()) return;
  // Machines a failed test left: local ones die with their namespaces' last
  // process; qemu ones are processes of their own, with persistent taps.
  for (const auto& pid : processes_of_test()) {
    if (read_text("/proc/" + pid + "/comm").rfind("qemu", 0) == 0) ::kill(std::stoi(pid), SIGKILL);
  }
  if (!qemu_bridge_.empty()) {
    auto taps = fs::list_dir("/sys/class/net/" + qemu_bridge_ + "/brif");
    for (const auto& tap : taps.ok() ? *taps : std::vector<std::string>{}) {
      run({"/sbin/ip", "link", "del", tap});
    }
  }
  // The local cloud keeps its bridge and NAT table for the next start; a
  // test's are its own to remove.
  for (const auto& bridge : {bridge_, qemu_bridge_}) {
    if (bridge.empty()) continue;
    run({"/usr/sbin/nft", "delete", "table", "ip", "slipway-" + bridge});
    run({"/sbin/ip", "link", "del", bridge});
  }
}

void DeployHarness::push(const std::string& yaml) {
  std::string path = dir() + "/module-" + std::to_string(files_++) + ".yaml";
  REQUIRE(fs::write_file_atomic(path, yaml, 0644).ok());
  Output out = cli({"module", "push", path});
  INFO(out.err);
  REQUIRE(out.status == 0);
}

void DeployHarness::push_source(const std::string& relative_dir) {
  std::string dir = source_dir() + "/" + relative_dir;
  if (!SLIPWAY_HAS_BUSYBOX_IMAGE) {
    // A sanitizer build's agent needs a C library, so it has no busybox
    // image: the same recipes run on the host's root instead.
    std::string copy = this->dir() + "/source-" + std::to_string(files_++);
    REQUIRE(fs::make_dirs(copy, 0755).ok());
    auto names = fs::list_dir(dir);
    REQUIRE(names.ok());
    for (const auto& name : *names) {
      std::string text = read_text(dir + "/" + name);
      for (size_t at; (at = text.find("parent: base/busybox")) != std::string::npos;) {
        text.replace(at, 20, "parent: base/host");
      }
      REQUIRE(fs::write_file_atomic(copy + "/" + name, text, 0644).ok());
    }
    dir = copy;
  }
  Output out = cli({"module", "push", dir});
  INFO(out.err);
  REQUIRE(out.status == 0);
}

std::string DeployHarness::deploy(const std::vector<std::string>& args, Output* output) {
  std::vector<std::string> argv = {"deploy"};
  argv.insert(argv.end(), args.begin(), args.end());
  Output out = cli(argv, "", 600000);
  if (output) *output = out;
  std::string id = out.out.substr(0, out.out.find('\n'));
  INFO("deploy stderr:\n" << out.err);
  REQUIRE(!id.empty());
  return id;
}

std::string DeployHarness::param(const std::string& id, const std::string& key) {
  Value params = cli_json({"params", id, key});
  for (const auto& p : params.items()) {
    if (p["key"].str() == key) return p["value"].str();
  }
  return "";
}

Value DeployHarness::show(const std::string& id) {
  return cli_json({"show", id});
}

std::string DeployHarness::terminate_and_wait(const std::string& id) {
  Output t = cli({"terminate", id});
  INFO(t.err);
  REQUIRE(t.status == 0);
  cli({"wait", id, "--state", "Done", "--timeout", "120"});
  return show(id)["state"].str();
}

std::vector<std::string> DeployHarness::leftovers() {
  std::vector<std::string> found;
  // Network devices on our bridges, and network namespaces the controller made.
  for (const auto& bridge : {bridge_, qemu_bridge_}) {
    if (bridge.empty()) continue;
    Output links = run({"/sbin/ip", "-o", "link", "show", "master", bridge});
    if (!links.out.empty()) found.push_back("devices still on " + bridge + ": " + links.out);
  }
  // Network namespaces of this cloud's machines ("slw-BRIDGE.MACHINE").
  Output netns = run({"/sbin/ip", "netns", "list"});
  size_t at = 0;
  while ((at = netns.out.find("slw-" + bridge_ + ".", at)) != std::string::npos) {
    found.push_back("netns: " + netns.out.substr(at, netns.out.find('\n', at) - at));
    ++at;
  }
  // Control groups of this cloud's machines, named like their namespaces,
  // in whichever hierarchy the host has (connectors/local/machine_cgroup.h).
  for (const char* parent :
       {"/sys/fs/cgroup/slipway", "/sys/fs/cgroup/memory/slipway", "/sys/fs/cgroup/cpu/slipway"}) {
    auto groups = fs::list_dir(parent);
    for (const auto& name : groups.ok() ? *groups : std::vector<std::string>{}) {
      if (name.rfind("slw-" + bridge_ + ".", 0) == 0) {
        found.push_back(std::string("control group: ") + parent + "/" + name);
      }
    }
  }
  // Mounts under the data directory.
  std::ifstream mounts("/proc/mounts");
  for (std::string line; std::getline(mounts, line);) {
    if (line.find(dir()) != std::string::npos) found.push_back("mount: " + line);
  }
  for (const auto& pid : processes_of_test()) {
    found.push_back("process " + pid + ": " + read_text("/proc/" + pid + "/cmdline"));
  }
  return found;
}

std::vector<std::string> DeployHarness::processes_of_test() {
  // Launchers and agents of process machines name the data directory on
  // their command line; qemu runs in its machine's directory there.
  std::vector<std::string> found;
  const std::string data = dir() + "/data";
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* e = ::readdir(proc)) {
      std::string pid = e->d_name;
      if (pid.find_first_not_of("0123456789") != std::string::npos ||
          std::to_string(::getpid()) == pid || std::to_string(controller_pid()) == pid) {
        continue;
      }
      char cwd[PATH_MAX];
      ssize_t n = ::readlink(("/proc/" + pid + "/cwd").c_str(), cwd, sizeof cwd - 1);
      std::string in = n > 0 ? std::string(cwd, static_cast<size_t>(n)) : "";
      if (read_text("/proc/" + pid + "/cmdline").find(data) != std::string::npos ||
          in.rfind(data + "/", 0) == 0) {
        found.push_back(pid);
      }
    }
    ::closedir(proc);
  }
  return found;
}

std::string DeployHarness::leftovers_text() {
  std::string out;
  for (const auto& l : leftovers()) out += l + "\n";
  return out;
}

}  // namespace slipway::test
