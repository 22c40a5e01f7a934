// Control operations on agents registered by hand: agent.add, agent.revoke,
// agent.list.
//
// Not thread-safe: use from the event loop thread only.
#pragma once

#include <string>

#include "common/clock.h"
#include "controller/agents/agent_hub.h"
#include "controller/control/control_server.h"
#include "controller/deployments/event_log.h"

namespace slipway::controller {

// Agents registered by hand, for root and the admin group only.
class AgentHandlers {
 public:
  // `agents` must be started (a contextualization names its port).
  AgentHandlers(AgentHub& agents, EventLog& events, const Clock& clock, std::string controller_key)
      : agents_(agents),
        events_(events),
        clock_(clock),
        controller_key_(std::move(controller_key)) {}

  void register_with(ControlServer& server);

  // Makes the agent's key pair and answers its contextualization; the
  // secret key is in the answer only.
  void add(const Caller& caller, const Value& request, Reply reply);
  // Drops the agent's connection, if any, with its key.
  void revoke(const Caller& caller, const Value& request, Reply reply);
  void list(const Caller& caller, const Value& request, Reply reply);

 private:
  AgentHub& agents_;
  EventLog& events_;
  const Clock& clock_;
  std::string controller_key_;
};

}  // namespace slipway::controller
