#include "connectors/local/local_connector.h"

#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "common/fs.h"
#include "common/log.h"
#include "common/thread_annotations.h"
#include "connectors/common/address_pool.h"
#include "connectors/common/bridge_network.h"
#include "connectors/common/machines.h"
#include "connectors/local/machine_dir.h"
#include "connectors/local/machine_network.h"
#include "connectors/local/machine_process.h"
#include "connectors/local/machine_root.h"
#include "connectors/local/settings.h"

namespace slipway::connectors::local {
namespace {

constexpr size_t kMaxParallel = 16;
constexpr std::chrono::seconds kStopTimeout{10};
constexpr size_t kConsoleLogTail = 1 << 20;

long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - since)
                               .count());
}

// What prepare() finds once; copied out under the lock by each operation.
struct Runtime {
  NetworkTools tools;
  std::string launcher;
  std::vector<std::string> hidden;  // host paths machines must not see
};

// Thread-safe: the lock guards the prepared state, the address pool has its
// own; each machine's own work runs unlocked, and distinct machines never
// share files, interfaces or namespaces.
class LocalConnector final : public Connector {
 public:
  LocalConnector(std::string cloud, LocalSettings settings, ConnectorEnvironment environment)
      : cloud_(std::move(cloud)),
        settings_(std::move(settings)),
        env_(std::move(environment)),
        addresses_(settings_.subnet) {}

  Status prepare() override;
  std::string controller_address() const override {
    return format_ipv4(settings_.subnet.bridge_address());
  }
  Capabilities capabilities() const override { return Capabilities{false, true}; }
  std::vector<Result<Machine>> launch(const std::vector<MachineSpec>& specs) override;
  Status terminate(const std::vector<std::string>& machine_ids) override;
  std::vector<Machine> describe(const std::vector<std::string>& machine_ids) override;
  Result<std::vector<std::string>> reap(const std::set<std::string>& keep) override;
  Result<std::string> console_log(const std::string& machine_id) override;

 private:
  Result<Runtime> runtime() const LOCKS_EXCLUDED(mutex_);
  Result<Machine> launch_one(const MachineSpec& spec, const Runtime& runtime);
  Status terminate_one(const std::string& machine_id, const Runtime& runtime);
  Status load_addresses();
  // Terminates the machines in parallel; the first error, naming its machine.
  Status terminate_all(const std::vector<std::string>& ids, const Runtime& runtime,
                       std::vector<bool>* done);

  const std::string cloud_;
  const LocalSettings settings_;
  const ConnectorEnvironment env_;

  AddressPool addresses_;

  mutable std::mutex mutex_;
  std::optional<Runtime> runtime_ GUARDED_BY(mutex_);
};

Status LocalConnector::prepare() {
  if (::geteuid() != 0) {
    return Error(Code::kPermissionDenied, "the local cloud needs root: run slipwayd as root");
  }
  Runtime runtime;
  SLIPWAY_ASSIGN_OR_RETURN(runtime.tools, NetworkTools::find(settings_.nat, "local"));
  SLIPWAY_ASSIGN_OR_RETURN(runtime.launcher, find_launcher());
  if (env_.state_dir.empty() || env_.state_dir[0] != '/') {
    return Error(Code::kInvalidArgument, "the local cloud needs an absolute state directory");
  }
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(MachineDir::machines_root(env_.state_dir), 0700));
  char state_dir[PATH_MAX];
  if (::realpath(env_.state_dir.c_str(), state_dir) == nullptr) {
    return Error(Code::kIo, "cannot resolve " + env_.state_dir);
  }
  SLIPWAY_RETURN_IF_ERROR(check_layer_path(env_.state_dir));
  SLIPWAY_RETURN_IF_ERROR(check_layer_path(state_dir));
  // The controller's data directory (DATA_DIR/clouds/NAME is the state
  // directory) holds its CURVE secret key, its database and every machine's
  // upper layer; a machine on the host's root would see it read-only.
  const std::string data_dir = fs::dirname(fs::dirname(state_dir));
  if (data_dir != "/") runtime.hidden.push_back(data_dir);
  runtime.hidden.insert(runtime.hidden.end(), settings_.hide.begin(), settings_.hide.end());

  SLIPWAY_RETURN_IF_ERROR(prepare_bridge_network(settings_, runtime.tools));
  SLIPWAY_RETURN_IF_ERROR(ensure_netns_dir(settings_.bridge, runtime.tools));
  SLIPWAY_RETURN_IF_ERROR(load_addresses());
  std::lock_guard lock(mutex_);
  runtime_ = std::move(runtime);
  LOG_INFO("cloud %s: bridge %s on %s ready", cloud_.c_str(), settings_.bridge.c_str(),
           settings_.subnet.to_string().c_str());
  return ok_status();
}

Result<Runtime> LocalConnector::runtime() const {
  std::lock_guard lock(mutex_);
  if (!runtime_) return Error(Code::kFailedPrecondition, "cloud " + cloud_ + " is not prepared");
  return *runtime_;
}

// A restarted slipwayd learns which addresses are taken from the records.
Status LocalConnector::load_addresses() {
  SLIPWAY_ASSIGN_OR_RETURN(auto ids, MachineDir::list(env_.state_dir));
  for (const auto& id : ids) {
    auto record = MachineDir(env_.state_dir, id).read_record();
    if (record.ok()) addresses_.mark_used(record->address);
  }
  return ok_status();
}

std::vector<Result<Machine>> LocalConnector::launch(const std::vector<MachineSpec>& specs) {
  auto runtime = this->runtime();
  return launch_machines(specs, kMaxParallel, [&](const MachineSpec& spec) {
    return runtime.ok() ? launch_one(spec, *runtime) : Result<Machine>(runtime.error());
  });
}

Result<Machine> LocalConnector::launch_one(const MachineSpec& spec, const Runtime& runtime) {
  const auto started = std::chrono::steady_clock::now();
  const std::string& id = spec.machine_id;
  auto fail = [&](const Error& error) { return error.wrap("cannot launch machine " + id); };
  if (Status s = check_machine_id(id); !s.ok()) return fail(s.error());
  auto hostname = machine_hostname(spec);
  if (!hostname.ok()) return fail(hostname.error());
  auto lower = resolve_rootfs(spec.reference, env_.images_dir);
  if (!lower.ok()) return fail(lower.error());
  if (::access(env_.agent_path.c_str(), R_OK) != 0) {
    return fail(Error(Code::kFailedPrecondition, "the agent " + env_.agent_path + " is missing"));
  }
  auto address = addresses_.reserve();
  if (!address.ok()) return fail(address.error());
  MachineDir dir(env_.state_dir, id);
  if (Status s = dir.create(); !s.ok()) {
    addresses_.release(*address);
    return fail(s.error());
  }

  MachineRecord record;
  record.machine_id = id;
  record.hostname = *hostname;
  record.address = *address;
  record.netns = netns_name(settings_.bridge, id);
  record.veth = veth_name(record.netns);
  // From here on a failure takes down everything made so far.
  auto undo = [&](const Error& error) {
    // A launcher killed for taking too long takes its half-made machine with
    // it, but not necessarily before we get here.
    (void)stop_netns_processes(std::string(kNetnsDir) + "/" + record.netns, kStopTimeout);
    (void)remove_machine_network(runtime.tools, record.netns, record.veth);
    (void)dir.remove();
    addresses_.release(record.address);
    return fail(error);
  };
  // The record goes first: it reserves the address across a restart.
  if (Status s = dir.write_record(record); !s.ok()) return undo(s.error());
  UpperLayer layer{*hostname, format_ipv4(*address), spec.platform, &spec.context, env_.agent_path};
  if (Status s = populate_upper(dir, *lower, layer); !s.ok()) return undo(s.error());
  if (Status s = add_machine_network(runtime.tools, settings_.bridge, record); !s.ok()) {
    return undo(s.error());
  }
  LaunchArguments args;
  args.machine_dir = dir.path();
  args.lower = *lower;
  args.netns_path = std::string(kNetnsDir) + "/" + record.netns;
  args.hostname = *hostname;
  args.address = format_ipv4(*address) + "/" + std::to_string(settings_.subnet.prefix);
  args.gateway = format_ipv4(settings_.subnet.bridge_address());
  args.hide = runtime.hidden;
  args.command = {kAgentPathInMachine, "--context", kContextPathInMachine, "--state-dir",
                  kAgentStateDirInMachine};
  auto process = start_machine(runtime.launcher, args);
  if (!process.ok()) return undo(process.error());
  record.pid = process->pid;
  record.start_time = process->start_time;
  if (Status s = dir.write_record(record); !s.ok()) {
    (void)stop_machine(*process, kStopTimeout);
    return undo(s.error());
  }
  LOG_INFO("cloud %s: machine %s runs at %s (pid %d, %ld ms)", cloud_.c_str(), id.c_str(),
           format_ipv4(*address).c_str(), static_cast<int>(process->pid), elapsed_ms(started));
  return Machine{id, format_ipv4(*address), "running"};
}

Status LocalConnector::terminate(const std::vector<std::string>& machine_ids) {
  SLIPWAY_ASSIGN_OR_RETURN(Runtime runtime, this->runtime());
  std::vector<bool> done;
  return terminate_all(machine_ids, runtime, &done);
}

Status LocalConnector::terminate_all(const std::vector<std::string>& ids, const Runtime& runtime,
                                     std::vector<bool>* done) {
  return terminate_machines(
      cloud_, ids, kMaxParallel, [&](const std::string& id) { return terminate_one(id, runtime); },
      done);
}

Status LocalConnector::terminate_one(const std::string& machine_id, const Runtime& runtime) {
  SLIPWAY_RETURN_IF_ERROR(check_machine_id(machine_id));
  MachineDir dir(env_.state_dir, machine_id);
  MachineRecord names;
  names.netns = netns_name(settings_.bridge, machine_id);
  names.veth = veth_name(names.netns);
  auto record = dir.read_record();
  if (record.ok()) {
    SLIPWAY_RETURN_IF_ERROR(stop_machine({record->pid, record->start_time}, kStopTimeout));
    names = *record;
  }
  // Whatever still runs in the machine's network namespace is the machine:
  // this also stops one whose record never got its pid (a crash mid-launch).
  SLIPWAY_RETURN_IF_ERROR(
      stop_netns_processes(std::string(kNetnsDir) + "/" + names.netns, kStopTimeout));
  SLIPWAY_RETURN_IF_ERROR(remove_machine_network(runtime.tools, names.netns, names.veth));
  SLIPWAY_RETURN_IF_ERROR(dir.remove());
  if (record.ok()) {
    addresses_.release(record->address);
    LOG_INFO("cloud %s: machine %s terminated", cloud_.c_str(), machine_id.c_str());
  }
  return ok_status();
}

std::vector<Machine> LocalConnector::describe(const std::vector<std::string>& machine_ids) {
  return describe_machines(machine_ids, [&](const std::string& id) -> std::optional<MachineState> {
    auto record = MachineDir(env_.state_dir, id).read_record();
    if (!record.ok()) return std::nullopt;
    return MachineState{record->address, machine_running({record->pid, record->start_time})};
  });
}

Result<std::vector<std::string>> LocalConnector::reap(const std::set<std::string>& keep) {
  SLIPWAY_ASSIGN_OR_RETURN(Runtime runtime, this->runtime());
  SLIPWAY_ASSIGN_OR_RETURN(auto listed, MachineDir::list(env_.state_dir));
  std::set<std::string> orphans;
  for (const auto& id : listed) {
    if (keep.count(id) == 0) orphans.insert(id);
  }
  // Namespaces whose directory is gone (removed by hand, or a crash between
  // the two) are found by their name.
  for (const auto& id : list_machine_netns(settings_.bridge)) {
    if (keep.count(id) == 0 && check_machine_id(id).ok()) orphans.insert(id);
  }
  std::vector<std::string> ids(orphans.begin(), orphans.end());
  std::vector<bool> done;
  Status status = terminate_all(ids, runtime, &done);
  std::vector<std::string> removed;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (done[i]) removed.push_back(ids[i]);
  }
  if (!removed.empty()) {
    LOG_WARN("cloud %s: reaped %zu machine(s) no deployment owns", cloud_.c_str(), removed.size());
  }
  if (!status.ok()) return status.error();
  return removed;
}

Result<std::string> LocalConnector::console_log(const std::string& machine_id) {
  SLIPWAY_RETURN_IF_ERROR(check_machine_id(machine_id));
  MachineDir dir(env_.state_dir, machine_id);
  if (!dir.exists()) {
    return Error(Code::kNotFound, "machine " + machine_id + " does not exist on cloud " + cloud_);
  }
  return read_tail(dir.console_log(), kConsoleLogTail);
}

}  // namespace

Result<std::unique_ptr<Connector>> make_local_connector(const CloudConfig& cloud,
                                                        const ConnectorEnvironment& environment) {
  SLIPWAY_ASSIGN_OR_RETURN(LocalSettings settings,
                           parse_local_settings(cloud.name, cloud.settings));
  return std::unique_ptr<Connector>(
      std::make_unique<LocalConnector>(cloud.name, std::move(settings), environment));
}

}  // namespace slipway::connectors::local
