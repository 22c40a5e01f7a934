#include "controller/control/agent_handlers.h"

#include "common/context.h"
#include "common/crypto.h"
#include "controller/control/control_protocol.h"

namespace slipway::controller {

namespace cp = control_protocol;

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

void AgentHandlers::register_with(ControlServer& server) {
  server.handle(cp::kAgentAdd, *this, &AgentHandlers::add);
  server.handle(cp::kAgentRevoke, *this, &AgentHandlers::revoke);
  server.handle(cp::kAgentList, *this, &AgentHandlers::list);
}

void AgentHandlers::add(const Caller& caller, const Value& request, Reply reply) {
  if (!caller.admin) return reply.fail(admins_only("register agents"));
  auto decoded = cp::decode_agent_add(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  const std::string& name = decoded->name;
  if (!valid_agent_name(name)) {
    return reply.fail(
        Error(Code::kInvalidArgument, "an agent name is 1 to 63 letters, digits and dashes"));
  }
  auto keys = crypto::generate_keypair();
  if (!keys.ok()) return reply.fail(keys.error());
  Status admitted = agents_.admit(keys->public_key, AgentIdentity{"", name});
  if (!admitted.ok()) return reply.fail(admitted.error());
  std::string endpoint = "tcp://" + decoded->host + ":" + std::to_string(agents_.endpoint().port());
  Contextualization context{endpoint, controller_key_, keys->public_key, keys->secret_key, "",
                            name};
  events_.record("", "agent.registered", "agent " + name + " registered by " + caller.user);
  std::string text = context.to_text();
  crypto::wipe(keys->secret_key);
  reply.ok(
      Value::object().set("name", name).set("public_key", keys->public_key).set("context", text));
}

void AgentHandlers::revoke(const Caller& caller, const Value& request, Reply reply) {
  if (!caller.admin) return reply.fail(admins_only("revoke agents"));
  auto decoded = cp::decode_name(cp::kAgentRevoke, request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  const std::string& name = decoded->name;
  auto revoked = agents_.key_store().revoke(AgentIdentity{"", name});
  if (!revoked.ok()) return reply.fail(revoked.error());
  agents_.drop_agent(*revoked, "its key was revoked by " + caller.user);
  events_.record("", "agent.revoked", "agent " + name + " revoked by " + caller.user);
  reply.ok(Value::object().set("name", name));
}

void AgentHandlers::list(const Caller& caller, const Value&, Reply reply) {
  if (!caller.admin) return reply.fail(admins_only("list registered agents"));
  auto keys = agents_.key_store().registered_agents();
  if (!keys.ok()) return reply.fail(keys.error());
  Value list = Value::array();
  int64_t now = clock_.steady_ms();
  for (const auto& key : *keys) {
    const AgentConnection* c = agents_.directory().find(key.public_key);
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
}

}  // namespace slipway::controller
