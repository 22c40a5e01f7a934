#include "controller/agents/agent_hub.h"

#include <boost/asio/post.hpp>
#include <variant>

#include "common/log.h"
#include "common/version.h"

namespace slipway::controller {

AgentHub::AgentHub(boost::asio::io_context& io, const Clock& clock, Store& store, EventLog& events,
                   AgentHubSettings settings)
    : io_(io), clock_(clock), events_(events), settings_(settings), key_store_(store) {}

Status AgentHub::start(const std::string& endpoint, const crypto::KeyPair& keys) {
  SLIPWAY_ASSIGN_OR_RETURN(auto live, key_store_.live_keys());
  for (const auto& key : live) key_registry_.admit(key.public_key, key.identity);
  // Only registered keys that were not revoked complete a handshake.
  endpoint_ = std::make_unique<AgentEndpoint>(
      io_, [this](const std::string& key) { return key_registry_.find(key).has_value(); },
      clock_);
  return endpoint_->start(endpoint, keys, [this](AgentFrame&& f) { on_frame(std::move(f)); });
}

Status AgentHub::listen_local(const std::string& path) {
  return endpoint_->listen_local(path);
}

Status AgentHub::expect_reconnects() {
  int64_t now = clock_.steady_ms();
  SLIPWAY_ASSIGN_OR_RETURN(auto live_keys, key_store_.live_keys());
  for (const auto& key : live_keys) {
    if (key.identity.deployment.empty()) continue;
    const Deployment* d = engine_->active(key.identity.deployment);
    if (d == nullptr) continue;
    auto it = d->instances.find(key.identity.instance);
    if (it != d->instances.end() && it->second.status == InstanceStatus::kRunning &&
        it->second.public_key == key.public_key) {
      agents_.expect(key.public_key, key.identity, now);
    }
  }
  return ok_status();
}

void AgentHub::tick() {
  send_heartbeats();
  check_liveness();
}

void AgentHub::stop() {
  if (endpoint_) endpoint_->stop();
}

void AgentHub::on_frame(AgentFrame&& frame) {
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
  AgentConnection* connection =
      agents_.seen(frame.public_key, frame.routing_id, clock_.steady_ms());
  if (connection == nullptr) {
    LOG_DEBUG("ignored %s from %s before its hello",
              std::string(proto::type_name(frame.message)).c_str(), identity->display().c_str());
    return;
  }
  if (std::holds_alternative<proto::Heartbeat>(frame.message)) return;
  if (identity->deployment.empty()) return;
  engine_->on_message(*identity, frame.message);
  write_pending_soon();
}

void AgentHub::write_pending_soon() {
  if (write_posted_ || !engine_->pending_writes()) return;
  write_posted_ = true;
  boost::asio::post(io_, [this] {
    write_posted_ = false;
    engine_->write_pending();
  });
}

void AgentHub::on_hello(const AgentFrame& frame, const AgentIdentity& identity,
                        const proto::Hello& hello) {
  proto::Welcome welcome;
  if (identity.deployment.empty()) {
    welcome.instance = identity.instance;
    welcome.heartbeat_ms = settings_.heartbeat_interval.count();
  } else {
    auto from_engine = engine_->on_hello(identity, hello, frame.peer_address);
    if (!from_engine) {
      endpoint_->send(frame.routing_id,
                      proto::Goodbye{"deployment " + identity.deployment + " is over"});
      return;
    }
    welcome = std::move(*from_engine);
  }
  const AgentConnection* before = agents_.find(frame.public_key);
  bool reconnect = before != nullptr;
  // One connection per agent: the one it says hello on now replaces any
  // other, which may be open still if its peer vanished without closing it.
  if (before != nullptr && !before->routing_id.empty() && before->routing_id != frame.routing_id)
    endpoint_->disconnect(before->routing_id);
  AgentConnection& c = agents_.hello(frame.public_key, identity, frame.routing_id, clock_.wall_ms(),
                                     clock_.steady_ms());
  c.agent_version = hello.agent_version;
  c.peer_address = frame.peer_address.empty() ? "local socket" : frame.peer_address;
  endpoint_->send(frame.routing_id, welcome);
  events_.record(identity.deployment, "agent.connected",
                 "agent " + identity.display() + (reconnect ? " reconnected" : " connected") +
                     " (slipway-agent " + hello.agent_version + ")");
}

void AgentHub::send_heartbeats() {
  int64_t now = clock_.steady_ms();
  if (now - last_heartbeat_sent_ < settings_.heartbeat_interval.count()) return;
  last_heartbeat_sent_ = now;
  for (const auto& [key, c] : agents_.all()) {
    if (c.connected && !c.routing_id.empty()) endpoint_->send(c.routing_id, proto::Heartbeat{});
  }
}

void AgentHub::check_liveness() {
  // Connections first: an agent that is silent this long is lost below too.
  endpoint_->close_silent(settings_.heartbeat_timeout);
  auto lost =
      agents_.expire(clock_.wall_ms(), clock_.steady_ms(), settings_.heartbeat_timeout.count());
  for (const auto& key : lost) {
    const AgentConnection* c = agents_.find(key);
    AgentIdentity identity = c->identity;
    events_.record(identity.deployment, "agent.lost",
                   "agent " + identity.display() + " is lost: silent for more than " +
                       std::to_string(settings_.heartbeat_timeout.count() / 1000.0).substr(0, 4) +
                       " s");
    if (!identity.deployment.empty()) engine_->on_agent_lost(identity);
  }
}

bool AgentHub::send(const AgentIdentity& identity, const proto::ControllerMessage& message) {
  AgentConnection* c = agents_.find(identity);
  if (c == nullptr || !c->connected || c->routing_id.empty()) return false;
  return endpoint_->send(c->routing_id, message);
}

Status AgentHub::admit(const std::string& public_key, const AgentIdentity& identity) {
  SLIPWAY_RETURN_IF_ERROR(key_store_.add(public_key, identity, clock_.wall_ms()));
  key_registry_.admit(public_key, identity);
  return ok_status();
}

void AgentHub::revoke(const std::string& public_key, const std::string& reason) {
  Status revoked = key_store_.revoke_key(public_key);
  if (!revoked.ok())
    LOG_ERROR("cannot revoke a key in the store: %s", revoked.error().message().c_str());
  drop_agent(public_key, reason);
}

void AgentHub::drop_agent(const std::string& public_key, const std::string& reason) {
  key_registry_.revoke(public_key);
  if (AgentConnection* c = agents_.find(public_key)) {
    if (c->connected && !c->routing_id.empty())
      endpoint_->send(c->routing_id, proto::Goodbye{reason});
    if (c->identity.deployment.empty()) {
      events_.record("", "agent.dropped", "agent " + c->identity.display() + " dropped: " + reason);
    }
    agents_.drop(public_key);
  }
}

}  // namespace slipway::controller
