#include "connectors/connector.h"
#include "connectors/process/process_connector.h"

namespace slipway::connectors {

void register_builtin_connectors(ConnectorRegistry& registry) {
  registry.add("process", make_process_connector);
}

}  // namespace slipway::connectors
