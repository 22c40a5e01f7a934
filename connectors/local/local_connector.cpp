#include "connectors/local/local_connector.h"

#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <optional>

#include "common/fs.h"
#include "common/log.h"
#include "connectors/common/bridge_network.h"
#include "connectors/common/bridged_connector.h"
#include "connectors/local/image_layer.h"
#include "connectors/local/launch_protocol.h"
#include "connectors/local/machine_cgroup.h"
#include "connectors/local/machine_dir.h"
#include "connectors/local/machine_network.h"
#include "connectors/local/machine_process.h"
#include "connectors/local/machine_root.h"
#include "connectors/local/settings.h"

namespace slipway::connectors::local {
namespace {

constexpr std::chrono::seconds kStopTimeout{10};

// What prepare() finds once; copied out under the lock by each operation.
struct Runtime {
  NetworkTools tools;
  std::string launcher;
  std::vector<std::string> hidden;  // host paths machines must not see
  CgroupLayout cgroups;             // where machines' resource limits go
};

class LocalConnector final : public BridgedConnector<LocalSettings, Runtime, MachineDir> {
 public:
  using BridgedConnector::BridgedConnector;

  Status prepare() override;
  // The controller's Unix socket, bound into every machine, when it has one.
  std::string agent_endpoint() const override {
    if (env_.agent_socket_dir.empty()) return BridgedConnector::agent_endpoint();
    return ipc_agent_endpoint(kAgentSocketDirInMachine);
  }
  Result<std::vector<std::string>> reap(const std::set<std::string>& keep) override;
  Capabilities capabilities() const override { return Capabilities{true, true}; }
  Result<Value> snapshot(const SnapshotRequest& request) override;

 private:
  Result<Machine> launch_one(const MachineSpec& spec, const Runtime& runtime) override;
  Status terminate_one(const std::string& machine_id, const Runtime& runtime) override;
  bool running(pid_t pid, uint64_t start_time) const override {
    return machine_running({pid, start_time});
  }
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
  runtime.cgroups = CgroupLayout::detect(settings_.cpu_quota);
  if (!runtime.cgroups.available() && settings_.cpu_quota) {
    LOG_WARN("cloud %s: cpu-quota is on, but CPU time cannot be limited here (%s); memory is",
             cloud_.c_str(), runtime.cgroups.why_not().c_str());
    runtime.cgroups = CgroupLayout::detect(false);
  }
  if (!runtime.cgroups.available()) {
    LOG_WARN("cloud %s: machines run without resource limits: %s", cloud_.c_str(),
             runtime.cgroups.why_not().c_str());
  }
  set_runtime(std::move(runtime));
  LOG_INFO("cloud %s: bridge %s on %s ready", cloud_.c_str(), settings_.bridge.c_str(),
           settings_.subnet.to_string().c_str());
  return ok_status();
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
  auto layers = image_layers(spec.reference);
  if (!layers.ok()) return fail(layers.error());
  if (::access(env_.agent_path.c_str(), R_OK) != 0) {
    return fail(Error(Code::kFailedPrecondition, "the agent " + env_.agent_path + " is missing"));
  }
  MachineDir dir(env_.state_dir, id);
  auto address = claim(dir);
  if (!address.ok()) return fail(address.error());

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
    (void)runtime.cgroups.remove(record.netns);
    (void)remove_machine_network(runtime.tools, record.netns, record.veth);
    (void)dir.remove();
    addresses_.release(record.address);
    return fail(error);
  };
  // The record goes first: it reserves the address across a restart.
  if (Status s = dir.write_record(record); !s.ok()) return undo(s.error());
  UpperLayer own{*hostname, format_ipv4(*address), spec.platform, &spec.context, env_.agent_path};
  if (Status s = populate_upper(dir, *lower, own); !s.ok()) return undo(s.error());
  if (Status s = add_machine_network(runtime.tools, settings_.bridge, record); !s.ok()) {
    return undo(s.error());
  }
  LaunchRequest args;
  if (runtime.cgroups.available()) {
    auto groups = runtime.cgroups.create(
        record.netns, ResourceLimits{spec.resources.cpus, spec.resources.memory_mb});
    if (!groups.ok()) return undo(groups.error());
    args.cgroups = *groups;
  }
  args.machine_dir = dir.path();
  args.lower = *lower;
  args.layers = *layers;
  args.netns = std::string(kNetnsDir) + "/" + record.netns;
  args.hostname = *hostname;
  args.address = format_ipv4(*address) + "/" + std::to_string(settings_.subnet.prefix);
  args.gateway = format_ipv4(settings_.subnet.bridge_address());
  args.hide = runtime.hidden;
  args.agent_socket_dir = env_.agent_socket_dir;
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
  SLIPWAY_RETURN_IF_ERROR(runtime.cgroups.remove(names.netns));
  SLIPWAY_RETURN_IF_ERROR(remove_machine_network(runtime.tools, names.netns, names.veth));
  SLIPWAY_RETURN_IF_ERROR(dir.remove());
  if (record.ok()) terminated(machine_id, record->address);
  return ok_status();
}

Result<Value> LocalConnector::snapshot(const SnapshotRequest& request) {
  SLIPWAY_ASSIGN_OR_RETURN(Runtime runtime, this->runtime());
  (void)runtime;
  SLIPWAY_RETURN_IF_ERROR(check_machine_id(request.machine_id));
  auto fail = [&](const Error& error) {
    return error.wrap("cannot snapshot machine " + request.machine_id);
  };
  MachineDir dir(env_.state_dir, request.machine_id);
  auto record = dir.read_record();
  if (!record.ok()) return fail(record.error());
  // Every process of the machine stops first: nothing writes to the layer
  // while it moves, and the overlay (mounted only in the machine's own
  // mount namespace) is gone with them.
  if (Status s = stop_machine({record->pid, record->start_time}, kStopTimeout); !s.ok())
    return fail(s.error());
  if (Status s = stop_netns_processes(std::string(kNetnsDir) + "/" + record->netns, kStopTimeout);
      !s.ok())
    return fail(s.error());
  auto reference = take_image_layer(dir.upper(), request.reference, request.dir);
  if (!reference.ok()) return fail(reference.error());
  LOG_INFO("cloud %s: machine %s is now an image in %s", cloud_.c_str(),
           request.machine_id.c_str(), request.dir.c_str());
  return reference;
}

Result<std::vector<std::string>> LocalConnector::reap(const std::set<std::string>& keep) {
  SLIPWAY_ASSIGN_OR_RETURN(Runtime runtime, this->runtime());
  SLIPWAY_ASSIGN_OR_RETURN(std::set<std::string> orphans, unkept_machines(keep));
  // Namespaces whose directory is gone (removed by hand, or a crash between
  // the two) are found by their name.
  for (const auto& id : list_machine_netns(settings_.bridge)) {
    if (keep.count(id) == 0 && check_machine_id(id).ok()) orphans.insert(id);
  }
  // And so are control groups whose removal failed after everything else.
  const std::string prefix = netns_prefix(settings_.bridge);
  for (const auto& name : runtime.cgroups.list(prefix)) {
    std::string id = name.substr(prefix.size());
    if (keep.count(id) == 0 && check_machine_id(id).ok()) orphans.insert(id);
  }
  std::vector<std::string> removed;
  Status status = terminate_orphans(std::vector<std::string>(orphans.begin(), orphans.end()),
                                    runtime, &removed);
  if (!status.ok()) return status.error();
  return removed;
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
