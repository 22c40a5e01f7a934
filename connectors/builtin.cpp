#include "connectors/connector.h"
#include "connectors/local/local_connector.h"

namespace slipway::connectors {

void register_builtin_connectors(ConnectorRegistry& registry) {
  registry.add("local", local::make_local_connector);
}

}  // namespace slipway::connectors
