// Which agents are connected, from the messages and heartbeats they send.
// An agent is connected from its hello until it is silent for longer than
// the heartbeat timeout (then lost) or its key is revoked (then dropped).
//
// Not thread-safe: event loop only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/value.h"
#include "controller/agents/key_registry.h"

namespace slipway::controller {

struct AgentConnection {
  std::string public_key;
  AgentIdentity identity;
  std::string routing_id;
  std::string peer_address;
  std::string agent_version;
  bool connected = false;
  int64_t last_seen_steady = 0;  // steady ms of its last message
  int64_t connected_at = 0;      // wall ms of its last hello
  int64_t lost_at = 0;           // wall ms it turned lost, 0 when connected

  Value to_value(int64_t now_steady) const;
};

class AgentDirectory {
 public:
  // Records a hello: the agent is connected on `routing_id` from now.
  AgentConnection& hello(const std::string& public_key, const AgentIdentity& identity,
                         const std::string& routing_id, int64_t now_wall, int64_t now_steady);
  // Records any other message. Returns the connection, or nullptr when the
  // agent has not said hello on this connection (it must, first).
  AgentConnection* seen(const std::string& public_key, const std::string& routing_id,
                        int64_t now_steady);

  // After a restart: an agent that was connected is given the heartbeat
  // timeout to come back before it counts as lost.
  void expect(const std::string& public_key, const AgentIdentity& identity, int64_t now_steady);

  AgentConnection* find(const std::string& public_key);
  AgentConnection* find(const AgentIdentity& identity);
  const AgentConnection* find(const std::string& public_key) const;

  // Marks lost every connected agent silent for more than `timeout_ms`;
  // returns their keys.
  std::vector<std::string> expire(int64_t now_wall, int64_t now_steady, int64_t timeout_ms);
  // Forgets an agent (its key was revoked).
  void drop(const std::string& public_key);

  size_t connected() const;
  const std::map<std::string, AgentConnection>& all() const { return agents_; }

 private:
  std::map<std::string, AgentConnection> agents_;   // by public key
  std::map<std::string, std::string> by_identity_;  // display() -> public key
};

}  // namespace slipway::controller
