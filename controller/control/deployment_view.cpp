#include "controller/control/deployment_view.h"

namespace slipway::controller {

Value deployment_summary(const Deployment& d, int64_t now_wall) {
  int64_t machines = 0;
  for (const auto& [name, i] : d.instances) {
    if (is_live(i.status) && i.status != InstanceStatus::kPending) ++machines;
  }
  return Value::object()
      .set("id", d.id)
      .set("module", d.module)
      .set("state", state_name(d.state))
      .set("aborted", d.aborted)
      .set("owner", d.owner_name)
      .set("created_at", d.created_at)
      .set("age_s", (now_wall - d.created_at) / 1000)
      .set("machines", machines)
      .set("instances", static_cast<int64_t>(d.instances.size()));
}

Value deployment_detail(const Deployment& d, int64_t now_wall,
                        const std::map<std::string, std::optional<std::string>>& parameters) {
  auto param = [&](const std::string& key) {
    auto it = parameters.find(key);
    return it != parameters.end() && it->second ? Value(*it->second) : Value("");
  };
  Value instances = Value::array();
  for (const auto& [name, i] : d.instances) {
    instances.push(Value::object()
                       .set("name", name)
                       .set("node", i.node)
                       .set("cloud", i.cloud)
                       .set("address", i.address)
                       .set("status", status_name(i.status))
                       .set("vmstate", param(name + ":vmstate"))
                       .set("phase", phase_name(i.phase))
                       .set("statecustom", param(name + ":statecustom"))
                       .set("state_done", i.state_done)
                       .set("error", i.error)
                       .set("machine_id", i.machine_id));
  }
  Value nodes = Value::array();
  for (const auto& n : d.nodes) {
    Value chain = Value::array();
    for (const auto& c : n.chain) chain.push(c);
    nodes.push(Value::object()
                   .set("name", n.name)
                   .set("image", n.image)
                   .set("chain", chain)
                   .set("cloud", n.cloud)
                   .set("multiplicity", n.multiplicity)
                   .set("boots_image", n.boots_image)
                   .set("boots_build", n.boots_build)
                   .set("builds", n.builds));
  }
  return deployment_summary(d, now_wall)
      .set("abort_reason", d.abort_reason)
      .set("keep_running", keep_running_name(d.keep_running))
      .set("timeout_s", d.timeout_ms / 1000)
      .set("state_since", d.state_since)
      .set("in_state_s", (now_wall - d.state_since) / 1000)
      .set("terminate_requested", d.terminate_requested)
      .set("ended_at", d.ended_at)
      .set("nodes", std::move(nodes))
      .set("instances_detail", std::move(instances));
}

}  // namespace slipway::controller
