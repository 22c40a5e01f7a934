#include "controller/agents/agent_directory.h"

namespace slipway::controller {

Value AgentConnection::to_value(int64_t now_steady) const {
  return Value::object()
      .set("name", identity.display())
      .set("deployment", identity.deployment)
      .set("instance", identity.instance)
      .set("state", connected ? "connected" : "lost")
      .set("address", peer_address)
      .set("version", agent_version)
      .set("connected_at", connected_at)
      .set("last_seen_ms_ago", now_steady - last_seen_steady);
}

AgentConnection& AgentDirectory::hello(const std::string& public_key, const AgentIdentity& identity,
                                       const std::string& routing_id, int64_t now_wall,
                                       int64_t now_steady) {
  AgentConnection& c = agents_[public_key];
  by_identity_[identity.display()] = public_key;
  c.public_key = public_key;
  c.identity = identity;
  c.routing_id = routing_id;
  c.connected = true;
  c.last_seen_steady = now_steady;
  c.connected_at = now_wall;
  c.lost_at = 0;
  return c;
}

AgentConnection* AgentDirectory::seen(const std::string& public_key, const std::string& routing_id,
                                      int64_t now_steady) {
  auto it = agents_.find(public_key);
  if (it == agents_.end() || !it->second.connected || it->second.routing_id != routing_id) {
    return nullptr;
  }
  it->second.last_seen_steady = now_steady;
  return &it->second;
}

AgentConnection* AgentDirectory::find(const std::string& public_key) {
  auto it = agents_.find(public_key);
  return it == agents_.end() ? nullptr : &it->second;
}

const AgentConnection* AgentDirectory::find(const std::string& public_key) const {
  auto it = agents_.find(public_key);
  return it == agents_.end() ? nullptr : &it->second;
}

void AgentDirectory::expect(const std::string& public_key, const AgentIdentity& identity,
                            int64_t now_steady) {
  if (agents_.count(public_key)) return;
  AgentConnection& c = agents_[public_key];
  by_identity_[identity.display()] = public_key;
  c.public_key = public_key;
  c.identity = identity;
  c.connected = true;
  c.last_seen_steady = now_steady;
}

AgentConnection* AgentDirectory::find(const AgentIdentity& identity) {
  auto it = by_identity_.find(identity.display());
  return it == by_identity_.end() ? nullptr : find(it->second);
}

std::vector<std::string> AgentDirectory::expire(int64_t now_wall, int64_t now_steady,
                                                int64_t timeout_ms) {
  std::vector<std::string> lost;
  for (auto& [key, c] : agents_) {
    if (c.connected && now_steady - c.last_seen_steady > timeout_ms) {
      c.connected = false;
      c.lost_at = now_wall;
      lost.push_back(key);
    }
  }
  return lost;
}

void AgentDirectory::drop(const std::string& public_key) {
  auto it = agents_.find(public_key);
  if (it == agents_.end()) return;
  auto index = by_identity_.find(it->second.identity.display());
  if (index != by_identity_.end() && index->second == public_key) by_identity_.erase(index);
  agents_.erase(it);
}

size_t AgentDirectory::connected() const {
  size_t n = 0;
  for (const auto& [key, c] : agents_) n += c.connected ? 1 : 0;
  return n;
}

}  // namespace slipway::controller
