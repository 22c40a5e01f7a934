// The agent_keys table: every CURVE key the controller ever admitted, live or
// revoked, and whom it belongs to.
//
// Not thread-safe: event loop only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::controller {

class Store;

// Who an admitted key belongs to.
struct AgentIdentity {
  std::string deployment;  // "" for an agent registered by hand
  std::string instance;    // "web.2", or the registered agent's name

  // "k3v9x2qa/web.2", or the bare name of a registered agent.
  std::string display() const {
    return deployment.empty() ? instance : deployment + "/" + instance;
  }
  bool operator==(const AgentIdentity&) const = default;
};

struct StoredKey {
  std::string public_key;
  AgentIdentity identity;
  bool revoked = false;
  int64_t created_at = 0;
};

class AgentKeyStore {
 public:
  explicit AgentKeyStore(Store& store) : store_(store) {}

  // Fails with kAlreadyExists when the identity already has a live key.
  Status add(const std::string& public_key, const AgentIdentity& identity, int64_t now_ms);
  // Revokes the live key of `identity`; kNotFound when there is none.
  Result<std::string> revoke(const AgentIdentity& identity);
  // Revokes one key; succeeds when it is already revoked or unknown.
  Status revoke_key(const std::string& public_key);
  // Revokes every live key of a deployment; returns them.
  Result<std::vector<std::string>> revoke_deployment(const std::string& deployment);
  Result<std::vector<StoredKey>> live_keys();
  // Every key, live or revoked, of agents registered by hand (deployment '').
  Result<std::vector<StoredKey>> registered_agents();

 private:
  Store& store_;
};

}  // namespace slipway::controller
