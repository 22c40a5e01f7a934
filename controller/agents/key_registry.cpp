#include "controller/agents/key_registry.h"

namespace slipway::controller {

void KeyRegistry::admit(const std::string& public_key, const AgentIdentity& identity) {
  keys_[public_key] = identity;
}

void KeyRegistry::revoke(const std::string& public_key) {
  keys_.erase(public_key);
}

std::optional<AgentIdentity> KeyRegistry::find(const std::string& public_key) const {
  auto it = keys_.find(public_key);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

}  // namespace slipway::controller
