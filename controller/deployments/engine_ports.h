// What the deployment engine needs of the world outside it: messages to
// agents, machines, and agent keys. The controller's AgentHub
// (controller/agents/) and ConnectorProvisioner implement them; the engine's
// tests use recording fakes.
#pragma once

#include <string>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"
#include "connectors/connector.h"
#include "controller/store/agent_keys.h"

namespace slipway::controller {

// Messages to agents.
class AgentLink {
 public:
  virtual ~AgentLink() = default;
  // Sends to the agent of `identity` when it is connected; false otherwise
  // (it gets the news in its next welcome).
  virtual bool send(const AgentIdentity& identity, const proto::ControllerMessage& message) = 0;
};

struct LaunchOrder {
  std::string cloud;
  connectors::MachineSpec spec;  // the provisioner fills in context.endpoint and server_key
};

struct TerminateOrder {
  std::string instance;
  std::string cloud;
  std::string machine_id;
};

// Machines, through the connectors. Answers come back later, on the event
// loop, through on_launched() and on_terminated().
class Provisioner {
 public:
  virtual ~Provisioner() = default;
  virtual void launch(const std::string& deployment, std::vector<LaunchOrder> orders) = 0;
  virtual void terminate(const std::string& deployment, std::vector<TerminateOrder> orders) = 0;
};

// Agent keys: admitted when an instance is made, revoked when its
// deployment ends or it is dropped.
class KeyKeeper {
 public:
  virtual ~KeyKeeper() = default;
  virtual Status admit(const std::string& public_key, const AgentIdentity& identity) = 0;
  virtual void revoke(const std::string& public_key, const std::string& reason) = 0;
};

}  // namespace slipway::controller
