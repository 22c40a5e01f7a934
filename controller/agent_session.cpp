// The controller's side of the agent protocol: hello, heartbeats, liveness,
// and keys admitted or revoked.
#include <variant>

#include "common/log.h"
#include "common/version.h"
#include "controller/controller.h"

namespace slipway::controller {

void Controller::on_agent_frame(AgentFrame&& frame) {
  auto identity = key_registry_.find(frame.public_key);
  if (!identity) {
    // Admitted at handshake, revoked since: it gets no more answers.
    endpoint_->send(frame.routing_id, proto::Goodbye{"this agent's key was revoked"});
    return;
  }
  if (auto* hello = std::get_if<proto::Hello>(&frame.message)) {
    on_hello(frame, *identity, *hello);
    return;
  }
  AgentConnection* connection = agents_.seen(frame.public_key, frame.routing_id, clock_.steady_ms());
  if (connection == nullptr) {
    LOG_DEBUG("ignored %s from %s before its hello", std::string(proto::type_name(frame.message)).c_str(),
              identity->display().c_str());
    return;
  }
  if (std::holds_alternative<proto::Heartbeat>(frame.message)) return;
  LOG_DEBUG("agent %s sent %s", identity->display().c_str(),
            std::string(proto::type_name(frame.message)).c_str());
}

void Controller::on_hello(const AgentFrame& frame, const AgentIdentity& identity,
                          const proto::Hello& hello) {
  AgentConnection* before = agents_.find(frame.public_key);
  bool reconnect = before != nullptr;
  AgentConnection& c =
      agents_.hello(frame.public_key, identity, frame.routing_id, clock_.wall_ms(), clock_.steady_ms());
  c.agent_version = hello.agent_version;
  c.peer_address = frame.peer_address;
  proto::Welcome welcome;
  welcome.instance = identity.instance;
  welcome.deployment = identity.deployment;
  welcome.heartbeat_ms = config_.heartbeat_interval.count();
  endpoint_->send(frame.routing_id, welcome);
  events_->record(identity.deployment, "agent.connected",
                  "agent " + identity.display() + (reconnect ? " reconnected" : " connected") +
                      " (slipway-agent " + hello.agent_version + ")");
}

void Controller::send_heartbeats() {
  int64_t now = clock_.steady_ms();
  if (now - last_heartbeat_sent_ < config_.heartbeat_interval.count()) return;
  last_heartbeat_sent_ = now;
  for (const auto& [key, c] : agents_.all()) {
    if (c.connected) endpoint_->send(c.routing_id, proto::Heartbeat{});
  }
}

void Controller::check_liveness() {
  auto lost = agents_.expire(clock_.wall_ms(), clock_.steady_ms(), config_.heartbeat_timeout.count());
  for (const auto& key : lost) {
    const AgentConnection* c = agents_.find(key);
    events_->record(c->identity.deployment, "agent.lost",
                    "agent " + c->identity.display() + " is lost: silent for more than " +
                        std::to_string(config_.heartbeat_timeout.count() / 1000.0).substr(0, 4) + " s");
  }
}

Status Controller::admit_key(const std::string& public_key, const AgentIdentity& identity) {
  SLIPWAY_RETURN_IF_ERROR(key_store_->add(public_key, identity, clock_.wall_ms()));
  key_registry_.admit(public_key, identity);
  return ok_status();
}

void Controller::revoke_key(const std::string& public_key, const std::string& reason) {
  key_registry_.revoke(public_key);
  if (AgentConnection* c = agents_.find(public_key)) {
    if (c->connected) endpoint_->send(c->routing_id, proto::Goodbye{reason});
    events_->record(c->identity.deployment, "agent.dropped",
                    "agent " + c->identity.display() + " dropped: " + reason);
    agents_.drop(public_key);
  }
}

}  // namespace slipway::controller
