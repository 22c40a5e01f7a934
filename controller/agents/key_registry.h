// The agent keys the controller admits now, and who each key is: the
// in-memory view the agent endpoint consults on every CURVE handshake. Its
// persistent side is the store's AgentKeyStore (controller/store/agent_keys.h);
// AgentHub changes both together.
//
// Not thread-safe: the endpoint asks it on the event loop, where it is changed.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>

#include "controller/store/agent_keys.h"

namespace slipway::controller {

class KeyRegistry {
 public:
  void admit(const std::string& public_key, const AgentIdentity& identity);
  void revoke(const std::string& public_key);
  std::optional<AgentIdentity> find(const std::string& public_key) const;

 private:
  std::unordered_map<std::string, AgentIdentity> keys_;
};

}  // namespace slipway::controller
