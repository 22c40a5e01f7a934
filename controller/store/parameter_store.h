// The parameters table: runtime parameters of deployments, by normalized key
// ("web.2:port"). A row with no value is declared but not set.
//
// Not thread-safe: event loop only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::controller {

class Store;

struct ParameterRow {
  std::string key;
  std::optional<std::string> value;  // nullopt: declared, not set
};

class ParameterRows {
 public:
  explicit ParameterRows(Store& store) : store_(store) {}

  // Writes one parameter, inserting or replacing it, inside the caller's
  // transaction if there is one. kAlreadyExists when the deployment is not
  // stored (its foreign key); kIo for another failure.
  Status put(const std::string& deployment, const std::string& key,
             const std::optional<std::string>& value, int64_t now_ms);
  // Writes `value` into every key in one transaction: all or none. A store
  // failure is kIo or kAlreadyExists, and then none is written.
  Status put_all(const std::string& deployment, const std::vector<std::string>& keys,
                 const std::string& value, int64_t now_ms);
  // Every parameter of a deployment, sorted by key; empty when it has none
  // (or there is no such deployment). A store failure is kIo.
  Result<std::vector<ParameterRow>> all(const std::string& deployment);

 private:
  Store& store_;
};

}  // namespace slipway::controller
