// What every connector's machines share: ids that are safe to use as file
// and device names, their host names, and the tail of their console logs.
//
// Plain functions: thread-safe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/connector.h"

namespace slipway::connectors {

// Machine ids become file and device names: 1 to 64 of [A-Za-z0-9._-], not
// starting with '.'.
Status check_machine_id(const std::string& machine_id);

// The spec's hostname when it is a valid one (an error when it is not), else
// one made from the machine id.
Result<std::string> machine_hostname(const MachineSpec& spec);

// Launches every machine of `specs` with `launch_one`, on at most
// `max_threads` threads, telling `progress` (unless empty) of each as it
// ends; the results in the order of `specs`.
std::vector<Result<Machine>> launch_machines(
    const std::vector<MachineSpec>& specs, size_t max_threads,
    const std::function<Result<Machine>(const MachineSpec&)>& launch_one,
    const LaunchProgress& progress);

// Terminates every machine of `ids` with `terminate_one`, on at most
// `max_threads` threads; one result per id, in order, each failure logged
// naming `cloud`.
std::vector<Status> terminate_machines(
    const std::string& cloud, const std::vector<std::string>& ids, size_t max_threads,
    const std::function<Status(const std::string&)>& terminate_one);

// A machine's directory and its record, as every connector that keeps state
// on the host lays them out: STATE_DIR/machines/MACHINE_ID/record.
//
// Ids of the machine directories under `root` (anything else is skipped).
Result<std::vector<std::string>> list_machine_dirs(const std::string& root);
// Creates `path`, mode 0700, and its parents; kAlreadyExists when it is there.
Status create_machine_dir(const std::string& path, const std::string& machine_id);

// The fields every such record has; each connector's record adds its own
// (local: netns and veth; qemu: tap). Written as "key=value" lines.
struct MachineRecordBase {
  std::string machine_id;
  std::string hostname;
  uint32_t address = 0;
  pid_t pid = 0;            // host pid of the machine's process; 0 before it runs
  uint64_t start_time = 0;  // its start time (field 22 of /proc/PID/stat), against pid reuse

 protected:
  // These fields, then the connector's own, in order.
  std::string record_text(const std::vector<std::pair<std::string, std::string>>& own) const;
  // Reads these fields from `text` and returns every "key=value" line by key,
  // for the connector's own; an error for a bad address, or no id or address.
  Result<std::map<std::string, std::string>> parse_base(const std::string& text);
};

// What a connector's describe() answers: for each id, `lookup` gives the
// machine's address and whether it runs, kNotFound when it has no record
// ("gone"), or another error when its record cannot be read ("unknown").
// Ids that are not machine ids are "gone" without a lookup.
struct MachineState {
  uint32_t address = 0;
  bool running = false;
};
std::vector<Machine> describe_machines(
    const std::vector<std::string>& ids,
    const std::function<Result<MachineState>(const std::string&)>& lookup);

// The last `max_size` bytes of a file; "" when it does not exist yet.
Result<std::string> read_tail(const std::string& path, size_t max_size);

}  // namespace slipway::connectors
