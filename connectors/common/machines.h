// What every connector's machines share: ids that are safe to use as file
// and device names, their host names, and the tail of their console logs.
//
// Plain functions: thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"
#include "connectors/connector.h"

namespace slipway::connectors {

// Machine ids become file and device names: 1 to 64 of [A-Za-z0-9._-], not
// starting with '.'.
Status check_machine_id(const std::string& machine_id);

// The spec's hostname when it is a valid one (an error when it is not), else
// one made from the machine id.
Result<std::string> machine_hostname(const MachineSpec& spec);

// The last `max_size` bytes of a file; "" when it does not exist yet.
Result<std::string> read_tail(const std::string& path, size_t max_size);

}  // namespace slipway::connectors
