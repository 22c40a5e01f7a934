#include "controller/agent_endpoint.h"

#include <unistd.h>

#include <boost/asio/post.hpp>

#include "common/curve_socket.h"
#include "common/log.h"

namespace slipway::controller {

namespace asio = boost::asio;

namespace {
// Messages handled per turn of the event loop before others get a chance.
constexpr int kBatch = 256;
}  // namespace

AgentEndpoint::AgentEndpoint(asio::io_context& io, zmq::context_t& context)
    : io_(io), context_(context) {}

AgentEndpoint::~AgentEndpoint() {
  stop();
}

Status AgentEndpoint::start(const std::string& endpoint, const crypto::KeyPair& keys,
                            Handler handler) {
  handler_ = std::move(handler);
  try {
    socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->set(zmq::sockopt::router_mandatory, 1);
    socket_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::kMaxMessageSize));
    socket_->set(zmq::sockopt::sndhwm, 10000);
    socket_->set(zmq::sockopt::rcvhwm, 10000);
    SLIPWAY_RETURN_IF_ERROR(crypto::make_curve_server(*socket_, keys));
    socket_->bind(endpoint);
    bound_ = socket_->get(zmq::sockopt::last_endpoint);
    int fd = socket_->get(zmq::sockopt::fd);
    // Asio owns a duplicate, so closing it never closes libzmq's descriptor.
    fd_ = std::make_unique<asio::posix::stream_descriptor>(io_, ::dup(fd));
  } catch (const zmq::error_t& e) {
    return Error(Code::kUnavailable, "cannot listen for agents on " + endpoint + ": " + e.what());
  }
  stopped_ = false;
  schedule_drain();
  return ok_status();
}

int AgentEndpoint::port() const {
  size_t colon = bound_.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(bound_.c_str() + colon + 1);
}

void AgentEndpoint::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  if (fd_) {
    boost::system::error_code ignored;
    fd_->cancel(ignored);
    fd_->close(ignored);
    fd_.reset();
  }
  socket_.reset();
}

// ZMQ_FD signals edge-style that ZMQ_EVENTS may have changed; it is not a
// level. So: drain until ZMQ_EVENTS has no POLLIN, then wait on the fd, and
// drain again after every send (a send may consume the edge).
//
// At most one wait is ever pending: every pending wait completes on the next
// edge and each would re-arm, so a second wait armed by a drain that was not
// the wait's own (after a send) would double the drains of every later edge,
// and so on without end: an endpoint that had sent a few thousand messages
// spun through thousands of empty drains per message.
void AgentEndpoint::arm() {
  if (stopped_ || !fd_ || waiting_) return;
  waiting_ = true;
  std::weak_ptr<bool> alive = alive_;
  fd_->async_wait(asio::posix::stream_descriptor::wait_read,
                  [this, alive](const boost::system::error_code& ec) {
                    if (alive.expired() || !*alive.lock()) return;
                    waiting_ = false;
                    if (ec) return;
                    drain();
                  });
}

void AgentEndpoint::schedule_drain() {
  if (drain_scheduled_ || stopped_) return;
  drain_scheduled_ = true;
  std::weak_ptr<bool> alive = alive_;
  asio::post(io_, [this, alive] {
    if (alive.expired() || !*alive.lock()) return;
    drain_scheduled_ = false;
    drain();
  });
}

void AgentEndpoint::drain() {
  if (stopped_) return;
  for (int handled = 0; handled < kBatch; ++handled) {
    if (stopped_) return;
    int events = socket_->get(zmq::sockopt::events);
    if ((events & ZMQ_POLLIN) == 0) {
      arm();
      return;
    }
    zmq::message_t routing;
    zmq::message_t body;
    if (!socket_->recv(routing, zmq::recv_flags::dontwait)) continue;
    bool well_formed = routing.more();
    if (well_formed) {
      (void)socket_->recv(body, zmq::recv_flags::dontwait);
    }
    while (body.more()) {  // an agent sends one frame; drop the extras
      well_formed = false;
      zmq::message_t extra;
      if (!socket_->recv(extra, zmq::recv_flags::dontwait)) break;
      body = std::move(extra);
    }
    const char* user_id = well_formed ? zmq_msg_gets(body.handle(), "User-Id") : nullptr;
    if (!well_formed || user_id == nullptr || *user_id == '\0') {
      ++malformed_;
      LOG_WARN("dropped a malformed frame on the agent endpoint");
      continue;
    }
    auto decoded = proto::decode_agent_message(body.to_string_view());
    if (!decoded.ok()) {
      ++malformed_;
      LOG_WARN("dropped a message from agent key %.8s...: %s", user_id,
               decoded.error().message().c_str());
      continue;
    }
    const char* peer = zmq_msg_gets(body.handle(), "Peer-Address");
    try {
      handler_(AgentFrame{user_id, routing.to_string(), peer != nullptr ? peer : "",
                          std::move(*decoded)});
    } catch (const std::exception& e) {
      // The last line of defence: one message must not take slipwayd down.
      LOG_ERROR("a message from agent key %.8s... failed with an exception: %s", user_id, e.what());
    }
  }
  schedule_drain();  // more may be waiting; let other work run first
}

bool AgentEndpoint::send(const std::string& routing_id, const proto::ControllerMessage& message) {
  if (stopped_ || !socket_) return false;
  std::string bytes = proto::encode(message);
  bool sent = false;
  try {
    if (socket_->send(zmq::buffer(routing_id),
                      zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      sent = socket_->send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
    }
  } catch (const zmq::error_t& e) {
    // EHOSTUNREACH: that connection is gone (router_mandatory).
    if (e.num() != EHOSTUNREACH) LOG_WARN("cannot send to an agent: %s", e.what());
  }
  schedule_drain();
  return sent;
}

}  // namespace slipway::controller
