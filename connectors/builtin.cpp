#include "connectors/connector.h"

namespace slipway::connectors {

void register_builtin_connectors(ConnectorRegistry& registry) {
  (void)registry;
}

}  // namespace slipway::connectors
