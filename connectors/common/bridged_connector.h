// What the local and qemu connectors share: machines with addresses on a
// bridge the controller owns, one directory and record per machine under the
// cloud's state directory, an address pool rebuilt from those records after
// a restart, and what prepare() found kept under a lock.
//
// A connector built on it supplies prepare() (ending in set_runtime()),
// launch_one(), terminate_one(), running() and reap(); launch, terminate,
// describe and console_log are done here, the batches in parallel.
//
//   Settings  has `subnet` (Subnet) and `bridge`
//   Runtime   what prepare() found: copied out for each operation
//   Dir       Dir(state_dir, id), Dir::list(state_dir), create(), exists(),
//             console_log() and read_record() -> Result<Record>, where a
//             Record has `address`, `pid` and `start_time`
//
// Thread-safe: the lock guards the prepared state, the address pool has its
// own; each machine's own work runs unlocked, and distinct machines never
// share files, interfaces or processes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/log.h"
#include "common/mutex.h"
#include "connectors/common/address_pool.h"
#include "connectors/common/ipv4.h"
#include "connectors/common/machines.h"
#include "connectors/connector.h"

namespace slipway::connectors {

template <typename Settings, typename Runtime, typename Dir>
class BridgedConnector : public Connector {
 public:
  BridgedConnector(std::string cloud, Settings settings, ConnectorEnvironment environment)
      : cloud_(std::move(cloud)),
        settings_(std::move(settings)),
        env_(std::move(environment)),
        addresses_(settings_.subnet) {}

  std::string controller_address() const override {
    return format_ipv4(settings_.subnet.bridge_address());
  }
  std::string agent_endpoint() const override {
    return tcp_agent_endpoint(controller_address(), env_.agent_port);
  }
  Capabilities capabilities() const override { return Capabilities{false, true}; }

  std::vector<Result<Machine>> launch(const std::vector<MachineSpec>& specs,
                                      const LaunchProgress& progress) override {
    auto runtime = this->runtime();
    return launch_machines(
        specs, kMaxParallel,
        [&](const MachineSpec& spec) {
          return runtime.ok() ? launch_one(spec, *runtime) : Result<Machine>(runtime.error());
        },
        progress);
  }

  std::vector<Status> terminate(const std::vector<std::string>& machine_ids) override {
    auto runtime = this->runtime();
    if (!runtime.ok()) return std::vector<Status>(machine_ids.size(), runtime.error());
    return terminate_all(machine_ids, *runtime);
  }

  Result<std::vector<Machine>> describe(const std::vector<std::string>& machine_ids) override {
    // Its records are the cloud's own word on its machines: without the
    // directory nothing can be said of any of them.
    if (!fs::exists(env_.state_dir + "/.")) {
      return Error(Code::kUnavailable,
                   "cloud " + cloud_ + " cannot be asked: " + env_.state_dir + " is not there");
    }
    return describe_machines(machine_ids, [&](const std::string& id) -> Result<MachineState> {
      SLIPWAY_ASSIGN_OR_RETURN(auto record, Dir(env_.state_dir, id).read_record());
      return MachineState{record.address, running(record.pid, record.start_time)};
    });
  }

  Result<std::string> console_log(const std::string& machine_id) override {
    SLIPWAY_RETURN_IF_ERROR(check_machine_id(machine_id));
    Dir dir(env_.state_dir, machine_id);
    if (!dir.exists()) {
      return Error(Code::kNotFound, "machine " + machine_id + " does not exist on cloud " + cloud_);
    }
    return read_tail(dir.console_log(), kConsoleLogTail);
  }

 protected:
  static constexpr size_t kMaxParallel = 16;
  static constexpr size_t kConsoleLogTail = 1 << 20;

  // Launches one machine; on failure leaves nothing of it behind.
  virtual Result<Machine> launch_one(const MachineSpec& spec, const Runtime& runtime) = 0;
  // Stops and removes one machine, and whatever a crash left of it.
  virtual Status terminate_one(const std::string& machine_id, const Runtime& runtime) = 0;
  // Whether the process a record names is still the machine.
  virtual bool running(pid_t pid, uint64_t start_time) const = 0;

  Result<Runtime> runtime() const LOCKS_EXCLUDED(mutex_) {
    MutexLock lock(mutex_);
    if (!runtime_) return Error(Code::kFailedPrecondition, "cloud " + cloud_ + " is not prepared");
    return *runtime_;
  }
  void set_runtime(Runtime runtime) LOCKS_EXCLUDED(mutex_) {
    MutexLock lock(mutex_);
    runtime_ = std::move(runtime);
  }

  // A restarted slipwayd learns which addresses are taken from the records.
  Status load_addresses() {
    SLIPWAY_ASSIGN_OR_RETURN(auto ids, Dir::list(env_.state_dir));
    for (const auto& id : ids) {
      auto record = Dir(env_.state_dir, id).read_record();
      if (record.ok()) addresses_.mark_used(record->address);
    }
    return ok_status();
  }

  // launch_one()'s first claim on the host, once its own checks passed: an
  // address from the pool and the machine's directory; neither on failure.
  Result<uint32_t> claim(const Dir& dir) {
    SLIPWAY_ASSIGN_OR_RETURN(uint32_t address, addresses_.reserve());
    if (Status s = dir.create(); !s.ok()) {
      addresses_.release(address);
      return s.error();
    }
    return address;
  }

  // The ids of the machine directories that `keep` does not name.
  Result<std::set<std::string>> unkept_machines(const std::set<std::string>& keep) const {
    SLIPWAY_ASSIGN_OR_RETURN(auto listed, Dir::list(env_.state_dir));
    std::set<std::string> unkept;
    for (const auto& id : listed) {
      if (keep.count(id) == 0) unkept.insert(id);
    }
    return unkept;
  }

  // terminate_one()'s last step for a machine that had a record.
  void terminated(const std::string& machine_id, uint32_t address) {
    addresses_.release(address);
    LOG_INFO("cloud %s: machine %s terminated", cloud_.c_str(), machine_id.c_str());
  }

  // Terminates the machines in parallel; the first error, naming its machine.
  std::vector<Status> terminate_all(const std::vector<std::string>& ids, const Runtime& runtime) {
    return terminate_machines(cloud_, ids, kMaxParallel,
                              [&](const std::string& id) { return terminate_one(id, runtime); });
  }

  // reap()'s common part: terminates `orphans` and adds those now gone to
  // *removed; the first error.
  Status terminate_orphans(const std::vector<std::string>& orphans, const Runtime& runtime,
                           std::vector<std::string>* removed) {
    std::vector<Status> results = terminate_all(orphans, runtime);
    for (size_t i = 0; i < orphans.size(); ++i) {
      if (results[i].ok()) removed->push_back(orphans[i]);
    }
    Status status = first_failure(results);
    if (!removed->empty()) {
      LOG_WARN("cloud %s: reaped %zu machine(s) no deployment owns", cloud_.c_str(),
               removed->size());
    }
    return status;
  }

  static long elapsed_ms(std::chrono::steady_clock::time_point since) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - since)
                                 .count());
  }

  const std::string cloud_;
  const Settings settings_;
  const ConnectorEnvironment env_;
  AddressPool addresses_;

 private:
  mutable Mutex mutex_;
  std::optional<Runtime> runtime_ GUARDED_BY(mutex_);
};

}  // namespace slipway::connectors
