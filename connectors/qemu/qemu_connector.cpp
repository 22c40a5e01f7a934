#include "connectors/qemu/qemu_connector.h"

#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "common/fs.h"
#include "common/log.h"
#include "connectors/common/bridge_network.h"
#include "connectors/common/bridged_connector.h"
#include "connectors/common/command.h"
#include "connectors/qemu/boot_media.h"
#include "connectors/qemu/kvm_probe.h"
#include "connectors/qemu/qemu_process.h"
#include "connectors/qemu/settings.h"
#include "connectors/qemu/vm_dir.h"

namespace slipway::connectors::qemu {
namespace {

constexpr std::chrono::seconds kStartTimeout{30};
constexpr std::chrono::seconds kQuitGrace{2};
constexpr std::chrono::seconds kStopTimeout{10};
constexpr std::chrono::seconds kIpTimeout{30};
// A snapshot converts the whole disk: gigabytes on a slow disk.
constexpr std::chrono::minutes kConvertTimeout{10};
// Time for qemu to write what its disk cache holds when asked to quit
// before a snapshot.
constexpr std::chrono::seconds kSnapshotQuitGrace{30};

bool interface_exists(const std::string& name) {
  return ::if_nametoindex(name.c_str()) != 0;
}

// What prepare() finds once; copied out under the lock by each operation.
struct Runtime {
  NetworkTools tools;
  std::string qemu;
  std::string genisoimage;
  std::string qemu_img;  // "" when missing: only images with a disk need it
  AccelChoice accel;
  int64_t host_cpus = 1;
  std::vector<std::string> dns;
};

class QemuConnector final : public BridgedConnector<QemuSettings, Runtime, VmDir> {
 public:
  using BridgedConnector::BridgedConnector;

  Status prepare() override;
  Result<std::vector<std::string>> reap(const std::set<std::string>& keep) override;
  Capabilities capabilities() const override { return Capabilities{true, true}; }
  Result<Value> snapshot(const SnapshotRequest& request) override;
  Status check_snapshot(const Value& reference) const override;

 private:
  Result<Machine> launch_one(const MachineSpec& spec, const Runtime& runtime) override;
  Status terminate_one(const std::string& machine_id, const Runtime& runtime) override;
  bool running(pid_t pid, uint64_t start_time) const override {
    return vm_running({pid, start_time});
  }
  Result<int64_t> memory_for(const MachineSpec& spec) const;
  Status add_tap(const Runtime& runtime, const std::string& tap) const;
  Status remove_tap(const Runtime& runtime, const std::string& tap) const;
};

Status QemuConnector::prepare() {
  if (::geteuid() != 0) {
    return Error(Code::kPermissionDenied,
                 "the qemu cloud needs root (taps, a bridge, NAT): run slipwayd as root");
  }
  if (env_.state_dir.empty() || env_.state_dir[0] != '/') {
    return Error(Code::kInvalidArgument, "the qemu cloud needs an absolute state directory");
  }
  Runtime runtime;
  if (!settings_.qemu.empty()) {
    if (::access(settings_.qemu.c_str(), X_OK) != 0) {
      return Error(Code::kFailedPrecondition,
                   "cloud " + cloud_ + ": qemu " + settings_.qemu + " is not an executable");
    }
    runtime.qemu = settings_.qemu;
  } else {
    auto qemu = find_program("qemu-system-x86_64");
    if (!qemu.ok()) {
      return Error(Code::kFailedPrecondition,
                   "the qemu cloud needs qemu-system-x86_64: install the package qemu-system-x86");
    }
    runtime.qemu = *qemu;
  }
  auto genisoimage = find_program("genisoimage");
  if (!genisoimage.ok()) {
    return Error(Code::kFailedPrecondition,
                 "the qemu cloud needs genisoimage for the machines' seeds: install the package "
                 "genisoimage");
  }
  runtime.genisoimage = *genisoimage;
  auto qemu_img = find_program("qemu-img");
  if (qemu_img.ok()) runtime.qemu_img = *qemu_img;
  if (!fs::exists("/dev/net/tun")) {
    return Error(Code::kFailedPrecondition,
                 "the qemu cloud needs /dev/net/tun for the machines' taps (modprobe tun)");
  }
  SLIPWAY_ASSIGN_OR_RETURN(runtime.tools, NetworkTools::find(settings_.nat, "qemu"));
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(VmDir::machines_root(env_.state_dir), 0700));
  SLIPWAY_RETURN_IF_ERROR(prepare_bridge_network(settings_, runtime.tools));
  SLIPWAY_RETURN_IF_ERROR(load_addresses());
  auto accel = choose_accel(settings_.accel);
  if (!accel.ok()) return accel.error().wrap("cloud " + cloud_);
  runtime.accel = *accel;
  runtime.host_cpus = std::max<int64_t>(1, std::thread::hardware_concurrency());
  runtime.dns = host_ipv4_nameservers();
  LOG_INFO("cloud %s: bridge %s on %s ready; machines run under %s (%s)", cloud_.c_str(),
           settings_.bridge.c_str(), settings_.subnet.to_string().c_str(),
           runtime.accel.kvm ? "KVM" : "TCG", runtime.accel.reason.c_str());
  set_runtime(std::move(runtime));
  return ok_status();
}

// What the cloud's setting says, else what the image's resources ask.
Result<int64_t> QemuConnector::memory_for(const MachineSpec& spec) const {
  const int64_t mb = settings_.memory_mb > 0 ? settings_.memory_mb : spec.resources.memory_mb;
  if (mb < kMinMemoryMb) {
    return Error(Code::kInvalidArgument, "its image asks for " + std::to_string(mb) +
                                             " MiB of memory, and a qemu machine needs at least " +
                                             std::to_string(kMinMemoryMb));
  }
  return mb;
}

Status QemuConnector::add_tap(const Runtime& runtime, const std::string& tap) const {
  // Persistent until deleted: it outlives a qemu that dies, and terminate
  // and reap delete it.
  Status status = run_checked(
      {runtime.tools.ip, "-batch", "-"},
      "tuntap add " + tap + " mode tap\nlink set " + tap + " master " + settings_.bridge + " up\n",
      kIpTimeout, "cannot make the tap " + tap);
  if (!status.ok()) (void)remove_tap(runtime, tap);
  return status;
}

Status QemuConnector::remove_tap(const Runtime& runtime, const std::string& tap) const {
  if (!interface_exists(tap)) return ok_status();
  Status status = run_checked({runtime.tools.ip, "link", "del", tap}, "", kIpTimeout,
                              "cannot remove the tap " + tap);
  // A concurrent remover may have won the race: what counts is that it is gone.
  if (!status.ok() && !interface_exists(tap)) return ok_status();
  return status;
}

Result<Machine> QemuConnector::launch_one(const MachineSpec& spec, const Runtime& runtime) {
  const auto started = std::chrono::steady_clock::now();
  const std::string& id = spec.machine_id;
  auto fail = [&](const Error& error) { return error.wrap("cannot launch machine " + id); };
  // Everything that can be checked first is, so a bad spec leaves nothing.
  if (Status s = check_machine_id(id); !s.ok()) return fail(s.error());
  auto hostname = machine_hostname(spec);
  if (!hostname.ok()) return fail(hostname.error());
  auto files = resolve_boot_files(spec.reference, env_.images_dir);
  if (!files.ok()) return fail(files.error());
  if (!files->disk.empty() && runtime.qemu_img.empty()) {
    return fail(Error(Code::kFailedPrecondition,
                      "its image has a disk, and qemu-img is missing: install the package "
                      "qemu-utils"));
  }
  auto memory = memory_for(spec);
  if (!memory.ok()) return fail(memory.error());
  VmDir dir(env_.state_dir, id);
  auto address = claim(dir);
  if (!address.ok()) return fail(address.error());

  VmRecord record;
  record.machine_id = id;
  record.hostname = *hostname;
  record.address = *address;
  record.tap = tap_name(settings_.bridge, id);
  // From here on a failure takes down everything made so far.
  auto undo = [&](const Error& error) {
    (void)stop_vm({record.pid, record.start_time}, dir.path(), kQuitGrace, kStopTimeout);
    (void)stop_qemus_in(dir.path(), runtime.qemu, kStopTimeout);
    (void)remove_tap(runtime, record.tap);
    (void)dir.remove();
    addresses_.release(record.address);
    return fail(error);
  };
  // The record goes first: it reserves the address and names the tap.
  if (Status s = dir.write_record(record); !s.ok()) return undo(s.error());
  if (Status s = write_seed(runtime.genisoimage, dir.path(), spec, *hostname); !s.ok()) {
    return undo(s.error());
  }
  if (!files->disk.empty()) {
    if (Status s = make_disk_overlay(runtime.qemu_img, dir.path(), *files); !s.ok()) {
      return undo(s.error());
    }
  }
  if (Status s = add_tap(runtime, record.tap); !s.ok()) return undo(s.error());

  QemuLaunch vm;
  vm.qemu = runtime.qemu;
  vm.dir = dir.path();
  vm.machine_id = id;
  vm.kvm = runtime.accel.kvm;
  vm.cpus = std::clamp<int64_t>(spec.resources.cpus, 1, runtime.host_cpus);
  vm.memory_mb = *memory;
  vm.files = *files;
  vm.disk_overlay = !files->disk.empty();
  KernelNetwork network;
  network.address = format_ipv4(*address) + "/" + std::to_string(settings_.subnet.prefix);
  network.gateway = format_ipv4(settings_.subnet.bridge_address());
  network.dns = runtime.dns;
  network.hostname = *hostname;
  vm.command_line = kernel_command_line(network, vm.disk_overlay);
  vm.tap = record.tap;
  vm.mac = mac_for(*address);
  auto process = spawn_qemu(vm);
  if (!process.ok()) return undo(process.error());
  record.pid = process->pid;
  record.start_time = process->start_time;
  if (Status s = dir.write_record(record); !s.ok()) return undo(s.error());
  if (Status s = wait_until_running(*process, dir.path(), kStartTimeout); !s.ok()) {
    return undo(s.error());
  }
  LOG_INFO("cloud %s: machine %s runs at %s (qemu pid %d, %s, %lld MiB, %ld ms)", cloud_.c_str(),
           id.c_str(), format_ipv4(*address).c_str(), static_cast<int>(process->pid),
           vm.kvm ? "kvm" : "tcg", static_cast<long long>(vm.memory_mb), elapsed_ms(started));
  return Machine{id, format_ipv4(*address), "running"};
}

Status QemuConnector::terminate_one(const std::string& machine_id, const Runtime& runtime) {
  SLIPWAY_RETURN_IF_ERROR(check_machine_id(machine_id));
  VmDir dir(env_.state_dir, machine_id);
  auto record = dir.read_record();
  std::string tap = tap_name(settings_.bridge, machine_id);
  if (record.ok()) {
    SLIPWAY_RETURN_IF_ERROR(
        stop_vm({record->pid, record->start_time}, dir.path(), kQuitGrace, kStopTimeout));
    tap = record->tap;
  }
  // Whatever still runs in the machine's directory is its qemu: this also
  // stops one whose record never got its pid (a crash mid-launch).
  SLIPWAY_RETURN_IF_ERROR(stop_qemus_in(dir.path(), runtime.qemu, kStopTimeout));
  SLIPWAY_RETURN_IF_ERROR(remove_tap(runtime, tap));
  SLIPWAY_RETURN_IF_ERROR(dir.remove());
  if (record.ok()) terminated(machine_id, record->address);
  return ok_status();
}

Status QemuConnector::check_snapshot(const Value& reference) const {
  SLIPWAY_ASSIGN_OR_RETURN(BootFiles files, resolve_boot_files(reference, env_.images_dir));
  if (files.disk.empty()) {
    return Error(Code::kFailedPrecondition,
                 "its machines boot from an initramfs alone, so what they install lives in their "
                 "memory: build qemu images on a parent with a disk (such as base/debian-12)");
  }
  return ok_status();
}

// The image is standalone: the machine's overlay and everything under it,
// converted into one qcow2 (flattened, not a chain of backing files, so the
// parent's disk can be rebuilt or removed without breaking it), with copies
// of the kernel and initrd it booted, so the disk's modules always match.
Result<Value> QemuConnector::snapshot(const SnapshotRequest& request) {
  SLIPWAY_ASSIGN_OR_RETURN(Runtime runtime, this->runtime());
  SLIPWAY_RETURN_IF_ERROR(check_machine_id(request.machine_id));
  auto fail = [&](const Error& error) {
    return error.wrap("cannot snapshot machine " + request.machine_id);
  };
  auto files = resolve_boot_files(request.reference, env_.images_dir);
  if (!files.ok()) return fail(files.error());
  if (Status s = check_snapshot(request.reference); !s.ok()) return fail(s.error());
  if (runtime.qemu_img.empty()) {
    return fail(Error(Code::kFailedPrecondition, "qemu-img is missing: install qemu-utils"));
  }
  VmDir dir(env_.state_dir, request.machine_id);
  auto record = dir.read_record();
  if (!record.ok()) return fail(record.error());
  // quit: qemu flushes its disk before it exits (the build synced the
  // guest's own caches as its last step).
  if (Status s = stop_vm({record->pid, record->start_time}, dir.path(), kSnapshotQuitGrace,
                         kStopTimeout);
      !s.ok())
    return fail(s.error());
  const std::string disk = request.dir + "/disk.qcow2";
  if (Status s = run_checked({runtime.qemu_img, "convert", "-q", "-O", "qcow2",
                              dir.file(kDiskOverlay), disk},
                             "", kConvertTimeout, "cannot convert the machine's disk");
      !s.ok())
    return fail(s.error());
  SLIPWAY_ASSIGN_OR_RETURN(std::string cp, find_program("cp"));
  Value reference = Value::object();
  for (const auto& [key, from] : {std::pair<std::string, std::string>{"kernel", files->kernel},
                                  {"initrd", files->initrd}}) {
    if (from.empty()) continue;
    const std::string to = request.dir + "/" + from.substr(from.rfind('/') + 1);
    if (Status s = run_checked({cp, "--reflink=auto", "--", from, to}, "", kConvertTimeout,
                               "cannot copy the " + key + " " + from);
        !s.ok())
      return fail(s.error());
    reference.set(key, to);
  }
  reference.set("disk", disk);
  LOG_INFO("cloud %s: machine %s is now an image in %s", cloud_.c_str(),
           request.machine_id.c_str(), request.dir.c_str());
  return reference;
}

Result<std::vector<std::string>> QemuConnector::reap(const std::set<std::string>& keep) {
  SLIPWAY_ASSIGN_OR_RETURN(Runtime runtime, this->runtime());
  SLIPWAY_ASSIGN_OR_RETURN(std::set<std::string> orphans, unkept_machines(keep));
  std::vector<std::string> removed;
  Status status = terminate_orphans(std::vector<std::string>(orphans.begin(), orphans.end()),
                                    runtime, &removed);
  // Taps on the bridge whose directory is gone (removed by hand, or a crash
  // between the two) are found by their names.
  std::set<std::string> kept_taps;
  for (const auto& id : keep) kept_taps.insert(tap_name(settings_.bridge, id));
  auto ports = fs::list_dir("/sys/class/net/" + settings_.bridge + "/brif");
  for (const auto& port : ports.ok() ? *ports : std::vector<std::string>{}) {
    if (is_tap_name(port) && kept_taps.count(port) == 0) {
      Status s = remove_tap(runtime, port);
      if (!s.ok() && status.ok()) status = s;
    }
  }
  if (!status.ok()) return status.error();
  return removed;
}

}  // namespace

Result<std::unique_ptr<Connector>> make_qemu_connector(const CloudConfig& cloud,
                                                       const ConnectorEnvironment& environment) {
  SLIPWAY_ASSIGN_OR_RETURN(QemuSettings settings, parse_qemu_settings(cloud.name, cloud.settings));
  return std::unique_ptr<Connector>(
      std::make_unique<QemuConnector>(cloud.name, std::move(settings), environment));
}

}  // namespace slipway::connectors::qemu
