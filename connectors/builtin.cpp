#include "connectors/connector.h"
#include "connectors/local/local_connector.h"
#include "connectors/process/process_connector.h"
#include "connectors/qemu/qemu_connector.h"

namespace slipway::connectors {

void register_builtin_connectors(ConnectorRegistry& registry) {
  registry.add("process", make_process_connector);
  registry.add("local", local::make_local_connector);
  registry.add("qemu", qemu::make_qemu_connector);
}

}  // namespace slipway::connectors
