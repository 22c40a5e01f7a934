#include "agent/controller_link.h"

#include <zmq.h>

#include <cstring>

#include "common/crypto.h"
#include "common/log.h"

namespace slipway::agent {

ControllerLink::ControllerLink(EventLoop& loop, zmq::context_t& context,
                               Contextualization context_data, Callbacks callbacks,
                               LinkTiming timing)
    : loop_(loop),
      context_(context),
      context_data_(std::move(context_data)),
      callbacks_(std::move(callbacks)),
      timing_(timing),
      backoff_(timing.backoff_initial_ms, timing.backoff_max_ms, random_unit),
      refused_backoff_(timing.refused_initial_ms, timing.refused_max_ms, random_unit),
      heartbeat_ms_(timing.heartbeat_ms) {}

ControllerLink::~ControllerLink() {
  stop();
}

void ControllerLink::start() {
  if (state_ != State::kIdle || attempt_timer_ != 0) return;
  connect();
}

void ControllerLink::stop() {
  if (state_ == State::kStopped) return;
  loop_.cancel(attempt_timer_);
  loop_.cancel(hello_timer_);
  loop_.cancel(heartbeat_timer_);
  close_socket();
  state_ = State::kStopped;
}

void ControllerLink::close_socket() {
  if (socket_) {
    loop_.unwatch(*socket_);
    if (monitor_) {
      loop_.unwatch(*monitor_);
      zmq_socket_monitor(socket_->handle(), nullptr, 0);
      monitor_.reset();
    }
    socket_.reset();
  }
}

void ControllerLink::connect() {
  attempt_timer_ = 0;
  if (state_ == State::kStopped) return;
  ++generation_;
  try {
    socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::kMaxMessageSize));
    // libzmq's own reconnection stays quick; our back-off decides when a new
    // socket is tried after a failure (CONNECT_RETRIED tells us of one).
    socket_->set(zmq::sockopt::reconnect_ivl, 100);
    crypto::KeyPair keys{context_data_.public_key, context_data_.secret_key};
    Status curve = crypto::make_curve_client(*socket_, keys, context_data_.server_key);
    if (!curve.ok()) {
      LOG_ERROR("%s", curve.error().message().c_str());
      socket_.reset();
      retry(true, curve.error().message());
      return;
    }
    monitor_address_ = "inproc://slipway-link-monitor-" + std::to_string(generation_);
    if (zmq_socket_monitor(socket_->handle(), monitor_address_.c_str(),
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_CONNECT_RETRIED) == 0) {
      monitor_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pair);
      monitor_->set(zmq::sockopt::linger, 0);
      monitor_->connect(monitor_address_);
      loop_.watch(*monitor_, [this] { on_monitor(); });
    }
    socket_->connect(context_data_.endpoint);
  } catch (const zmq::error_t& e) {
    close_socket();
    retry(false, std::string("cannot connect to ") + context_data_.endpoint + ": " + e.what());
    return;
  }
  loop_.watch(*socket_, [this] { on_readable(); });
  state_ = State::kConnecting;
  LOG_DEBUG("connecting to the controller at %s", context_data_.endpoint.c_str());
  // Queued until the connection is up.
  proto::AgentMessage hello = callbacks_.make_hello();
  (void)socket_->send(zmq::buffer(proto::encode(hello)), zmq::send_flags::dontwait);
  hello_timer_ = loop_.after(timing_.hello_timeout_ms, [this] {
    hello_timer_ = 0;
    if (state_ == State::kConnecting) retry(false, "no answer from the controller");
  });
}

void ControllerLink::retry(bool refused, const std::string& why) {
  bool was_ready = state_ == State::kReady;
  close_socket();
  loop_.cancel(hello_timer_);
  loop_.cancel(heartbeat_timer_);
  hello_timer_ = heartbeat_timer_ = 0;
  if (state_ == State::kStopped) return;
  state_ = State::kIdle;
  int64_t delay = refused ? refused_backoff_.next() : backoff_.next();
  if (refused) {
    LOG_ERROR("%s; retrying in %.1f s", why.c_str(), static_cast<double>(delay) / 1000);
  } else if (was_ready) {
    LOG_WARN("lost the controller (%s); reconnecting in %.1f s", why.c_str(),
             static_cast<double>(delay) / 1000);
  } else {
    LOG_INFO("controller at %s not reachable (%s); retrying in %.1f s",
             context_data_.endpoint.c_str(), why.c_str(), static_cast<double>(delay) / 1000);
  }
  loop_.cancel(attempt_timer_);
  attempt_timer_ = loop_.after(delay, [this] { connect(); });
  if (was_ready && callbacks_.on_lost) callbacks_.on_lost();
}

void ControllerLink::on_monitor() {
  while (monitor_) {
    zmq::message_t event;
    if (!monitor_->recv(event, zmq::recv_flags::dontwait)) return;
    zmq::message_t address;
    if (event.more()) (void)monitor_->recv(address, zmq::recv_flags::dontwait);
    if (event.size() < 6) continue;
    uint16_t id;
    uint32_t value;
    std::memcpy(&id, event.data(), sizeof id);
    std::memcpy(&value, static_cast<const char*>(event.data()) + 2, sizeof value);
    switch (id) {
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        ++refusals_;
        retry(true, "the controller at " + context_data_.endpoint +
                        " refused this agent's key (not registered, or revoked)");
        return;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        retry(true, "the CURVE handshake with " + context_data_.endpoint +
                        " failed (is its server-key right?)");
        return;
      case ZMQ_EVENT_DISCONNECTED:
        retry(false, "disconnected");
        return;
      case ZMQ_EVENT_CONNECT_RETRIED:
        retry(false, "connection refused");
        return;
      default:
        break;
    }
  }
}

void ControllerLink::on_readable() {
  for (int i = 0; i < 64 && socket_; ++i) {
    zmq::message_t frame;
    try {
      if (!socket_->recv(frame, zmq::recv_flags::dontwait)) return;
    } catch (const zmq::error_t& e) {
      retry(false, e.what());
      return;
    }
    while (frame.more() && socket_) {  // the controller sends one frame; drop extras
      zmq::message_t extra;
      if (!socket_->recv(extra, zmq::recv_flags::dontwait)) break;
    }
    on_frame(frame);
  }
}

void ControllerLink::on_frame(const zmq::message_t& frame) {
  auto decoded = proto::decode_controller_message(frame.to_string_view());
  if (!decoded.ok()) {
    LOG_WARN("ignored a message from the controller: %s", decoded.error().message().c_str());
    return;
  }
  last_heard_ = loop_.clock().steady_ms();
  proto::ControllerMessage& message = *decoded;
  if (auto* welcome = std::get_if<proto::Welcome>(&message)) {
    loop_.cancel(hello_timer_);
    hello_timer_ = 0;
    bool first = connections_ == 0;
    ++connections_;
    state_ = State::kReady;
    backoff_.reset();
    refused_backoff_.reset();
    if (welcome->heartbeat_ms > 0) heartbeat_ms_ = welcome->heartbeat_ms;
    LOG_INFO("%s the controller at %s as %s", first ? "connected to" : "reconnected to",
             context_data_.endpoint.c_str(),
             welcome->deployment.empty() ? welcome->instance.c_str()
                                         : (welcome->deployment + "/" + welcome->instance).c_str());
    arm_heartbeat();
    callbacks_.on_welcome(*welcome);
    return;
  }
  if (state_ != State::kReady) return;  // nothing counts before the welcome
  if (std::holds_alternative<proto::Heartbeat>(message)) return;
  if (auto* bye = std::get_if<proto::Goodbye>(&message)) {
    retry(true, "the controller said goodbye: " + bye->reason);
    return;
  }
  callbacks_.on_message(std::move(message));
}

void ControllerLink::arm_heartbeat() {
  loop_.cancel(heartbeat_timer_);
  heartbeat_timer_ = loop_.after(heartbeat_ms_, [this] {
    heartbeat_timer_ = 0;
    if (state_ != State::kReady) return;
    int64_t silent = loop_.clock().steady_ms() - last_heard_;
    if (silent > heartbeat_ms_ * timing_.silent_heartbeats) {
      retry(false, "no heartbeat for " + std::to_string(silent / 1000) + " s");
      return;
    }
    send(proto::Heartbeat{});
    arm_heartbeat();
  });
}

bool ControllerLink::send(const proto::AgentMessage& message) {
  if (state_ != State::kReady || !socket_) return false;
  try {
    return socket_->send(zmq::buffer(proto::encode(message)), zmq::send_flags::dontwait)
        .has_value();
  } catch (const zmq::error_t& e) {
    LOG_WARN("cannot send to the controller: %s", e.what());
    return false;
  }
}

}  // namespace slipway::agent
