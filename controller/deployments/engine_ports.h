// What the deployment engine needs of the world outside it: messages to
// agents, machines, and agent keys. The controller's AgentHub
// (controller/agents/) and ConnectorProvisioner implement them; the engine's
// tests use recording fakes.
#pragma once

#include <string>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"
#include "common/value.h"
#include "connectors/connector.h"
#include "controller/store/agent_keys.h"

namespace slipway::controller {

// Messages to agents.
class AgentLink {
 public:
  virtual ~AgentLink() = default;
  // Sends to the agent of `identity` when it is connected: true once the
  // message is written or queued on its connection. False when it is not
  // connected or its connection will take no more; the message is then
  // dropped, and the agent gets the news in its next welcome (which carries
  // the deployment's state) or re-sends what it waits for.
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

struct SnapshotOrder {
  std::string instance;
  std::string cloud;
  connectors::SnapshotRequest request;
};

// A machine made an image: what its machines boot, and the bytes it takes.
struct Snapshot {
  Value reference;
  int64_t size_bytes = 0;
};

// Machines, through the connectors. The calls return at once and never
// fail themselves: every order gets exactly one answer later, on the event
// loop, through the engine's on_launched() (the machine, or why it could not
// be made: the cloud is unknown or broken, the connector failed) and
// on_terminated() (ok, or why this one machine could not be removed; each
// machine of a batch gets its own). An order of a cloud that is still
// preparing waits for it.
class Provisioner {
 public:
  virtual ~Provisioner() = default;
  virtual void launch(const std::string& deployment, std::vector<LaunchOrder> orders) = 0;
  virtual void terminate(const std::string& deployment, std::vector<TerminateOrder> orders) = 0;
  // Stops the machine and makes it an image (Connector::snapshot); the
  // answer comes through the engine's on_snapshotted(), with the image's
  // size, or why it could not be made.
  virtual void snapshot(const std::string& deployment, SnapshotOrder order) = 0;
};

// Agent keys: admitted when an instance is made, revoked when its
// deployment ends or it is dropped.
class KeyKeeper {
 public:
  virtual ~KeyKeeper() = default;
  // Stores the key and lets it complete handshakes from now on. Fails (with
  // the store's error, or kAlreadyExists when the identity has a live key)
  // having admitted nothing: the instance is then not made.
  virtual Status admit(const std::string& public_key, const AgentIdentity& identity) = 0;
  // Refuses the key from now on and closes its agent's connection, telling
  // it `reason`. Never fails: a key that cannot be marked revoked in the
  // store is still refused until the controller restarts, and the failure
  // is logged. After a restart such a key completes a handshake again, but
  // its hello is answered with a goodbye: its instance or deployment is over.
  virtual void revoke(const std::string& public_key, const std::string& reason) = 0;
};

}  // namespace slipway::controller
