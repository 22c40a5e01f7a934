#include "connectors/connector.h"

namespace slipway::connectors {

void ConnectorRegistry::add(const std::string& type, ConnectorFactory factory) {
  factories_[type] = std::move(factory);
}

Result<std::unique_ptr<Connector>> ConnectorRegistry::make(
    const CloudConfig& cloud, const ConnectorEnvironment& environment) const {
  auto it = factories_.find(cloud.connector);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [type, factory] : factories_) known += (known.empty() ? "" : ", ") + type;
    return Error(Code::kNotFound, "cloud " + cloud.name + " names connector \"" + cloud.connector +
                                      "\", which this slipwayd does not have (it has: " + known +
                                      ")");
  }
  return it->second(cloud, environment);
}

std::vector<std::string> ConnectorRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [type, factory] : factories_) out.push_back(type);
  return out;
}

}  // namespace slipway::connectors
