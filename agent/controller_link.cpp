#include "agent/controller_link.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "common/crypto.h"
#include "common/log.h"

namespace slipway::agent {
namespace {

// A socket address to connect to, whichever transport the endpoint names.
struct Address {
  sockaddr_storage storage{};
  socklen_t size = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// "tcp://HOST:PORT" (HOST may be "[v6]"), or "ipc:///PATH": the controller's
// Unix socket, as machines on its own kernel reach it.
Result<Address> resolve(const std::string& endpoint) {
  Address out;
  if (auto path = ipc_path(endpoint)) {
    auto* un = reinterpret_cast<sockaddr_un*>(&out.storage);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path->c_str(), path->size() + 1);
    out.size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path->size() + 1);
    return out;
  }
  auto parts = split_endpoint(endpoint);
  if (!parts) return Error(Code::kInvalidArgument, "not a tcp://HOST:PORT or ipc:///PATH endpoint");
  std::string host = parts->host;
  addrinfo hints{};
  hints.ai_family = AF_INET;  // as libzmq without ZMQ_IPV6; "[v6]" for IPv6
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    hints.ai_family = AF_INET6;
  }
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), parts->port.c_str(), &hints, &found);
  if (rc != 0)
    return Error(Code::kUnavailable, std::string("cannot resolve it: ") + gai_strerror(rc));
  std::memcpy(&out.storage, found->ai_addr, found->ai_addrlen);
  out.size = found->ai_addrlen;
  ::freeaddrinfo(found);
  return out;
}

std::string describe_errno(int error) {
  return error == ECONNREFUSED ? "connection refused" : std::strerror(error);
}

}  // namespace

ControllerLink::ControllerLink(EventLoop& loop, Contextualization context_data, Callbacks callbacks,
                               LinkTiming timing)
    : loop_(loop),
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
  if (fd_ >= 0) {
    loop_.unwatch_fd(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  watching_ = 0;
  tcp_connecting_ = false;
  session_.reset();
  ++generation_;
}

void ControllerLink::connect() {
  attempt_timer_ = 0;
  if (state_ == State::kStopped) return;
  auto session = CurveClient::create(context_data_.public_key, context_data_.secret_key,
                                     context_data_.server_key, proto::kMaxMessageSize);
  if (!session.ok()) {
    std::string why = "the contextualization holds a key that is " + session.error().message();
    LOG_ERROR("%s", why.c_str());
    retry(true, why);
    return;
  }
  auto address = resolve(context_data_.endpoint);
  if (!address.ok()) {
    retry(false, "cannot connect to " + context_data_.endpoint + ": " + address.error().message());
    return;
  }
  fd_ = ::socket(address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int connected = fd_ < 0 ? -1 : ::connect(fd_, address->get(), address->size);
  int error = errno;
  // A Unix socket never says EINPROGRESS; its EAGAIN (a full backlog) is retried.
  if (connected != 0 && error != EINPROGRESS) {
    close_socket();
    retry(false, describe_errno(error));
    return;
  }
  if (address->family() != AF_UNIX) {
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  session_ = std::move(*session);
  hello_sent_ = false;
  tcp_connecting_ = connected != 0;
  state_ = State::kConnecting;
  LOG_DEBUG("connecting to the controller at %s", context_data_.endpoint.c_str());
  update_watch();
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

void ControllerLink::update_watch() {
  if (fd_ < 0) return;
  short events = tcp_connecting_
                     ? POLLOUT
                     : static_cast<short>(POLLIN | (session_->outbound().empty() ? 0 : POLLOUT));
  if (events == watching_) return;
  watching_ = events;
  loop_.watch_fd(fd_, events, [this](short revents) { on_event(revents); });
}

void ControllerLink::on_event(short revents) {
  uint64_t generation = generation_;
  if (tcp_connecting_) {
    if (!on_connected()) return;
  } else if (revents & (POLLIN | POLLERR)) {
    if (!read_in()) return;
  }
  if (generation != generation_) return;
  std::string failed = flush();
  if (!failed.empty()) {
    on_closed(failed);
    return;
  }
  update_watch();
}

bool ControllerLink::on_connected() {
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  if (error != 0) {
    retry(false, describe_errno(error));
    return false;
  }
  tcp_connecting_ = false;
  return true;
}

// Reads what the socket holds and hands it to the session; false when the
// connection ended (and retry() has run).
bool ControllerLink::read_in() {
  uint64_t generation = generation_;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n == 0) {
      on_closed("disconnected");
      return false;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return true;
      on_closed(describe_errno(errno));
      return false;
    }
    std::vector<std::string> messages;
    Status fed = session_->feed(std::string_view(buffer, static_cast<size_t>(n)), &messages);
    if (session_->ready() && !hello_sent_) {
      // Said at every (re)connection, before anything else.
      hello_sent_ = true;
      session_->send(proto::encode(proto::AgentMessage(callbacks_.make_hello())));
    }
    for (const std::string& message : messages) {
      on_frame(message);
      if (generation != generation_) return false;
    }
    if (!fed.ok()) {
      on_session_error(fed.error());
      return false;
    }
    if (static_cast<size_t>(n) < sizeof buffer) return true;
  }
}

void ControllerLink::on_closed(const std::string& why) {
  if (state_ == State::kReady || session_->welcomed()) {
    retry(false, why);
    return;
  }
  // The controller hangs up on a HELLO it cannot open, that is on a wrong
  // server key; but a controller restarting mid-handshake does the same.
  // Only a few such hang-ups in a row count as the key.
  if (++unwelcomed_closes_ < kUnwelcomedCloses) {
    retry(false, "the controller closed the connection during the handshake");
  } else {
    retry(true, "the CURVE handshake with " + context_data_.endpoint +
                    " failed (is its server-key right?)");
  }
}

void ControllerLink::on_session_error(const Error& error) {
  if (error.code() == Code::kPermissionDenied) {
    ++refusals_;
    retry(true, "the controller at " + context_data_.endpoint +
                    " refused this agent's key (not registered, or revoked)");
  } else if (state_ == State::kReady) {
    retry(false, "protocol error from the controller: " + error.message());
  } else {
    retry(true,
          "the CURVE handshake with " + context_data_.endpoint + " failed: " + error.message());
  }
}

// Writes what the session has queued, as far as the socket takes it.
// Returns why the connection failed, or "" (the caller closes it).
std::string ControllerLink::flush() {
  while (!tcp_connecting_ && session_ && !session_->outbound().empty()) {
    std::string_view pending = session_->outbound();
    ssize_t n = ::send(fd_, pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return "";
      return describe_errno(errno);
    }
    session_->written(static_cast<size_t>(n));
  }
  return "";
}

void ControllerLink::on_frame(std::string_view frame) {
  auto decoded = proto::decode_controller_message(frame);
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
    unwelcomed_closes_ = 0;
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
  if (state_ != State::kReady || !session_ || session_->outbound().size() >= kSendBuffer)
    return false;
  session_->send(proto::encode(message));
  // A failed write is left to the loop, which sees the broken connection on
  // its next poll: the caller must not see the link go down under it.
  (void)flush();
  update_watch();
  return true;
}

}  // namespace slipway::agent
