// Control operations: status, and agents registered by hand.
#include <unistd.h>

#include "common/context.h"
#include "common/version.h"
#include "controller/controller.h"
#include "controller/deployments/provisioner.h"

namespace slipway::controller {

namespace {

Error admins_only(const char* what) {
  return Error(Code::kPermissionDenied, std::string("only root and the admin group may ") + what);
}

// Names of agents registered by hand: what a host name may hold.
bool valid_agent_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (c >= 'A' && c <= 'Z'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string Controller::advertised_endpoint(const std::string& host) const {
  return "tcp://" + host + ":" + std::to_string(agents_->endpoint().port());
}

Value Controller::status_value(const Caller& caller) {
  int64_t now = clock_.steady_ms();
  // An admin sees every agent; anyone else those of their own deployments.
  auto visible = [&](const AgentConnection& c) {
    if (caller.admin) return true;
    const Deployment* d = engine_->active(c.identity.deployment);
    return d != nullptr && d->owner_uid == caller.uid;
  };
  Value agents = Value::array();
  int64_t connected = 0;
  for (const auto& [key, c] : agents_->directory().all()) {
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
                    .set("state", provisioner_->cloud_state(cloud.name)));
  }
  Value deployments = Value::object();
  if (auto counts = engine_->counts(); counts.ok()) {
    for (const auto& [state, count] : *counts) deployments.set(state, count);
  }
  return Value::object()
      .set("version", SLIPWAY_VERSION)
      .set("pid", static_cast<int64_t>(::getpid()))
      .set("uptime_s", (now - started_steady_) / 1000)
      .set("data_dir", config_.data_dir)
      .set("agent_endpoint", agents_->endpoint().bound_endpoint())
      .set("controller_key", keys_.public_key)
      .set("agents_connected", connected)
      // Open on the agent endpoint, handshaken or not: more than agents
      // connected for long would mean connections nothing ends.
      .set("agent_connections", static_cast<int64_t>(agents_->endpoint().connections()))
      .set("agents", std::move(agents))
      .set("deployments", std::move(deployments))
      .set("clouds", std::move(clouds));
}

void Controller::register_status_ops() {
  control_->handle("status", [this](const Caller& caller, const Value&, Reply reply) {
    reply.ok(status_value(caller));
  });
}

void Controller::register_agent_ops() {
  // agent.add {name, host?}: registers an agent by hand and returns its
  // contextualization. host is the address the agent reaches us on.
  control_->handle("agent.add", [this](const Caller& caller, const Value& request, Reply reply) {
    if (!caller.admin) return reply.fail(admins_only("register agents"));
    const std::string& name = request["name"].str();
    if (!valid_agent_name(name)) {
      return reply.fail(
          Error(Code::kInvalidArgument, "an agent name is 1 to 63 letters, digits and dashes"));
    }
    std::string host = request["host"].as_string("127.0.0.1");
    auto keys = crypto::generate_keypair();
    if (!keys.ok()) return reply.fail(keys.error());
    Status admitted = agents_->admit(keys->public_key, AgentIdentity{"", name});
    if (!admitted.ok()) return reply.fail(admitted.error());
    Contextualization context{
        advertised_endpoint(host), keys_.public_key, keys->public_key, keys->secret_key, "", name};
    events_->record("", "agent.registered", "agent " + name + " registered by " + caller.user);
    std::string text = context.to_text();
    crypto::wipe(keys->secret_key);
    reply.ok(
        Value::object().set("name", name).set("public_key", keys->public_key).set("context", text));
  });

  control_->handle("agent.revoke", [this](const Caller& caller, const Value& request, Reply reply) {
    if (!caller.admin) return reply.fail(admins_only("revoke agents"));
    const std::string& name = request["name"].str();
    auto revoked = agents_->key_store().revoke(AgentIdentity{"", name});
    if (!revoked.ok()) return reply.fail(revoked.error());
    agents_->drop_agent(*revoked, "its key was revoked by " + caller.user);
    events_->record("", "agent.revoked", "agent " + name + " revoked by " + caller.user);
    reply.ok(Value::object().set("name", name));
  });

  control_->handle("agent.list", [this](const Caller& caller, const Value&, Reply reply) {
    if (!caller.admin) return reply.fail(admins_only("list registered agents"));
    auto keys = agents_->key_store().registered_agents();
    if (!keys.ok()) return reply.fail(keys.error());
    Value list = Value::array();
    int64_t now = clock_.steady_ms();
    for (const auto& key : *keys) {
      const AgentConnection* c = agents_->directory().find(key.public_key);
      list.push(Value::object()
                    .set("name", key.identity.instance)
                    .set("public_key", key.public_key)
                    .set("revoked", key.revoked)
                    .set("created_at", key.created_at)
                    .set("state", key.revoked    ? "revoked"
                                  : c == nullptr ? "never connected"
                                  : c->connected ? "connected"
                                                 : "lost")
                    .set("last_seen_ms_ago", c ? Value(now - c->last_seen_steady) : Value()));
    }
    reply.ok(std::move(list));
  });
}

}  // namespace slipway::controller
