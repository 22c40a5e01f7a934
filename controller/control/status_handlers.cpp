#include "controller/control/status_handlers.h"

#include <unistd.h>

#include "common/version.h"
#include "controller/control/control_protocol.h"

namespace slipway::controller {

namespace cp = control_protocol;

void StatusHandlers::register_with(ControlServer& server) {
  server.handle(cp::kStatus, *this, &StatusHandlers::status);
}

void StatusHandlers::status(const Caller& caller, const Value&, Reply reply) {
  int64_t now = clock_.steady_ms();
  auto visible = [&](const AgentConnection& c) {
    if (caller.admin) return true;
    const Deployment* d = engine_.active(c.identity.deployment);
    return d != nullptr && d->owner_uid == caller.uid;
  };
  Value agents = Value::array();
  int64_t connected = 0;
  for (const auto& [key, c] : agents_.directory().all()) {
    if (!visible(c)) continue;
    agents.push(c.to_value(now));
    if (c.connected) ++connected;
  }
  Value clouds = Value::array();
  for (const auto& cloud : config_.clouds) {
    clouds.push(Value::object()
                    .set("name", cloud.name)
                    .set("connector", cloud.connector)
                    .set("default", cloud.name == config_.default_cloud)
                    .set("state", clouds_.state(cloud.name).text()));
  }
  Value deployments = Value::object();
  if (auto counts = engine_.counts(); counts.ok()) {
    for (const auto& [state, count] : *counts) deployments.set(state, count);
  }
  Value images = Value::object();
  if (builds_ != nullptr) {
    auto bytes = builds_->bytes();
    images.set("bytes", bytes.ok() ? *bytes : int64_t{-1}).set("dir", builds_->root());
  }
  reply.ok(Value::object()
               .set("version", SLIPWAY_VERSION)
               .set("pid", static_cast<int64_t>(::getpid()))
               .set("uptime_s", (now - facts_.started_steady) / 1000)
               .set("data_dir", config_.data_dir)
               .set("agent_endpoint", agents_.endpoint().bound_endpoint())
               .set("controller_key", facts_.public_key)
               .set("agents_connected", connected)
               // Open on the agent endpoint, handshaken or not: more than
               // agents connected for long would mean connections nothing ends.
               .set("agent_connections", static_cast<int64_t>(agents_.endpoint().connections()))
               .set("agents", std::move(agents))
               .set("deployments", std::move(deployments))
               // The engine's own writes that failed since start (its log
               // names each): memory and store disagree until rewritten.
               .set("store_failures", engine_.store_failures())
               .set("clouds", std::move(clouds))
               .set("images", std::move(images)));
}

}  // namespace slipway::controller
