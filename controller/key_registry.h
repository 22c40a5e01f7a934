// The agent keys the controller admits, and who each key is.
//
// KeyRegistry is the in-memory view the ZAP handler consults on every CURVE
// handshake; AgentKeyStore is its persistent side in the store. The
// controller changes both together (see Controller::admit_key and revoke).
#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"

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

// Thread-safe: the ZAP thread reads while the event loop writes.
class KeyRegistry {
 public:
  void admit(const std::string& public_key, const AgentIdentity& identity) LOCKS_EXCLUDED(mutex_);
  void revoke(const std::string& public_key) LOCKS_EXCLUDED(mutex_);
  std::optional<AgentIdentity> find(const std::string& public_key) const LOCKS_EXCLUDED(mutex_);
  size_t size() const LOCKS_EXCLUDED(mutex_);

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, AgentIdentity> keys_ GUARDED_BY(mutex_);
};

struct StoredKey {
  std::string public_key;
  AgentIdentity identity;
  bool revoked = false;
  int64_t created_at = 0;
};

// The agent_keys table. Not thread-safe (event loop only).
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
