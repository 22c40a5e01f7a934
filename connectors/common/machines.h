// What every connector's machines share: ids that are safe to use as file
// and device names, their host names, and the tail of their console logs.
//
// Plain functions: thread-safe.
#pragma once

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
// `max_threads` threads; the results in the order of `specs`.
std::vector<Result<Machine>> launch_machines(
    const std::vector<MachineSpec>& specs, size_t max_threads,
    const std::function<Result<Machine>(const MachineSpec&)>& launch_one);

// Terminates every machine of `ids` with `terminate_one`, on at most
// `max_threads` threads. (*done)[i] says whether ids[i] is gone; each failure
// is logged naming `cloud`, and the first is returned.
Status terminate_machines(const std::string& cloud, const std::vector<std::string>& ids,
                          size_t max_threads,
                          const std::function<Status(const std::string&)>& terminate_one,
                          std::vector<bool>* done);

// A machine's directory and its record, as every connector that keeps state
// on the host lays them out: STATE_DIR/machines/MACHINE_ID/record.
//
// Ids of the machine directories under `root` (anything else is skipped).
Result<std::vector<std::string>> list_machine_dirs(const std::string& root);
// Creates `path`, mode 0700, and its parents; kAlreadyExists when it is there.
Status create_machine_dir(const std::string& path, const std::string& machine_id);
// The "key=value" lines of a record, by key (other lines are skipped).
std::map<std::string, std::string> parse_record_lines(const std::string& text);

// What a connector's describe() answers: for each id, `lookup` gives the
// machine's address and whether it runs, or nothing when it has no record
// ("gone"). Ids that are not machine ids are "gone" without a lookup.
struct MachineState {
  uint32_t address = 0;
  bool running = false;
};
std::vector<Machine> describe_machines(
    const std::vector<std::string>& ids,
    const std::function<std::optional<MachineState>(const std::string&)>& lookup);

// The last `max_size` bytes of a file; "" when it does not exist yet.
Result<std::string> read_tail(const std::string& path, size_t max_size);

}  // namespace slipway::connectors
