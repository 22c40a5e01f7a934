#include "connectors/process/process_connector.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "common/fs.h"
#include "common/log.h"
#include "connectors/common/machines.h"
#include "connectors/process/process_tree.h"

extern char** environ;

namespace slipway::connectors {
namespace {

class ProcessConnector final : public Connector {
 public:
  ProcessConnector(std::string name, ConnectorEnvironment environment, std::string address)
      : name_(std::move(name)), env_(std::move(environment)), address_(std::move(address)) {}

  Status prepare() override {
    SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(machines_dir(), 0700));
    if (::access(env_.agent_path.c_str(), X_OK) != 0) {
      return Error(Code::kUnavailable,
                   "cannot run the agent " + env_.agent_path + ": " + std::strerror(errno));
    }
    return ok_status();
  }

  std::string controller_address() const override { return address_; }
  // Its agents are processes of this host: the controller's Unix socket, when it has one.
  std::string agent_endpoint() const override {
    if (env_.agent_socket_dir.empty()) return tcp_agent_endpoint(address_, env_.agent_port);
    return ipc_agent_endpoint(env_.agent_socket_dir);
  }
  Capabilities capabilities() const override { return Capabilities{false, true}; }

  std::vector<Result<Machine>> launch(const std::vector<MachineSpec>& specs,
                                      const LaunchProgress& progress) override {
    // One at a time: spawning a process is quick.
    return launch_machines(
        specs, 1, [this](const MachineSpec& spec) { return launch_one(spec); }, progress);
  }

  std::vector<Status> terminate(const std::vector<std::string>& ids) override {
    std::vector<Status> results;
    for (const auto& id : ids) results.push_back(terminate_one(id));
    return results;
  }

  Result<std::vector<Machine>> describe(const std::vector<std::string>& ids) override {
    std::vector<Machine> out;
    for (const auto& id : ids) {
      pid_t pid = read_pid(id);
      out.push_back(Machine{id, address_, pid > 0 && process_alive(pid) ? "running" : "gone"});
    }
    return out;
  }

  Result<std::vector<std::string>> reap(const std::set<std::string>& keep) override {
    std::vector<std::string> removed;
    auto names = fs::list_dir(machines_dir());
    if (!names.ok()) return removed;
    for (const auto& id : *names) {
      if (keep.count(id)) continue;
      SLIPWAY_RETURN_IF_ERROR(terminate_one(id));
      removed.push_back(id);
    }
    return removed;
  }

  Result<std::string> console_log(const std::string& id) override {
    return fs::read_file(machine_dir(id) + "/console.log", 16 << 20);
  }

 private:
  std::string machines_dir() const { return env_.state_dir + "/machines"; }
  std::string machine_dir(const std::string& id) const { return machines_dir() + "/" + id; }

  pid_t read_pid(const std::string& id) const {
    auto text = fs::read_file(machine_dir(id) + "/pid", 64);
    return text.ok() ? static_cast<pid_t>(std::atol(text->c_str())) : 0;
  }

  Result<Machine> launch_one(const MachineSpec& spec) {
    std::string dir = machine_dir(spec.machine_id);
    if (spec.machine_id.empty() || spec.machine_id.find('/') != std::string::npos) {
      return Error(Code::kInvalidArgument, "machine id \"" + spec.machine_id + "\" is not a name");
    }
    SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(dir + "/state", 0700));
    Status written = fs::write_file_atomic(dir + "/context", spec.context.to_text(), 0600);
    if (!written.ok()) {
      (void)fs::remove_tree(dir);
      return written.error();
    }
    std::string context = dir + "/context";
    std::string state = dir + "/state";
    std::string console = dir + "/console.log";
    std::vector<std::string> args = {env_.agent_path, "--context", context, "--state-dir", state};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, console.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    // Its own session: a controller stopping does not take its machines along.
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = 0;
    int rc =
        posix_spawn(&pid, env_.agent_path.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
      (void)fs::remove_tree(dir);
      return Error(Code::kUnavailable,
                   "cannot start the agent " + env_.agent_path + ": " + std::strerror(rc));
    }
    SLIPWAY_RETURN_IF_ERROR(fs::write_file_atomic(dir + "/pid", std::to_string(pid) + "\n", 0600));
    return Machine{spec.machine_id, address_, "running"};
  }

  Status terminate_one(const std::string& id) {
    std::string dir = machine_dir(id);
    if (id.empty() || id.find('/') != std::string::npos) return ok_status();
    pid_t pid = read_pid(id);
    // Only a process still running our agent for this machine is ours to kill.
    if (pid > 0 && process_cmdline(pid).find(dir + "/context") != std::string::npos) {
      kill_tree(pid, std::chrono::milliseconds(2000));
    }
    return fs::remove_tree(dir);
  }

  std::string name_;
  ConnectorEnvironment env_;
  std::string address_;
};

}  // namespace

Result<std::unique_ptr<Connector>> make_process_connector(const CloudConfig& cloud,
                                                          const ConnectorEnvironment& environment) {
  for (const auto& [key, value] : cloud.settings.fields()) {
    if (key != "address") {
      return Error(
          Code::kInvalidArgument,
          "cloud " + cloud.name + ": the process connector has no setting \"" + key + "\"");
    }
  }
  std::string address = cloud.settings["address"].as_string("127.0.0.1");
  return std::unique_ptr<Connector>(new ProcessConnector(cloud.name, environment, address));
}

}  // namespace slipway::connectors
