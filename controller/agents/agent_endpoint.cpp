#include "controller/agents/agent_endpoint.h"

#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/context.h"
#include "common/log.h"

namespace slipway::controller {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
// Unwritten bytes one connection may hold before send() refuses more.
constexpr size_t kMaxQueued = 32 << 20;
// Connections still in their handshake, past which new ones are closed at
// once: what peers that never prove a key can hold (descriptors, memory,
// handshake work on the loop) stays bounded. A handshake takes a few
// milliseconds, so agents starting together stay far below it.
constexpr size_t kMaxHandshaking = 256;
// Of those, what one IP address may hold: a peer that opens connections and
// never finishes them fills its own share, not every agent's.
constexpr size_t kMaxHandshakingPerAddress = 32;

// "tcp://HOST:PORT" with HOST "*" for every IPv4 address, or an address,
// IPv6 in brackets; PORT "*" for one the system picks.
Result<tcp::endpoint> parse_listen(const std::string& endpoint) {
  auto refuse = [&](const char* why) {
    return Error(Code::kInvalidArgument, "cannot listen for agents on " + endpoint + ": " + why);
  };
  std::string e = endpoint;
  size_t colon = e.rfind(':');
  if (colon != std::string::npos && e.compare(colon, std::string::npos, ":*") == 0)
    e.replace(colon, 2, ":0");
  auto parts = split_endpoint(e);
  if (!parts) return refuse("write tcp://HOST:PORT");
  std::string host = parts->host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "*") host = "0.0.0.0";
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return refuse("HOST must be *, an IPv4 address, or an IPv6 address in brackets");
  if (parts->port.size() > 5 || std::stoul(parts->port) > 65535)
    return refuse("PORT must be at most 65535, or *");
  return tcp::endpoint(address, static_cast<unsigned short>(std::stoul(parts->port)));
}

// A TCP listener's or peer's address out of Asio's generic endpoint.
tcp::endpoint as_tcp(const asio::generic::stream_protocol::endpoint& generic) {
  tcp::endpoint ip;
  std::memcpy(ip.data(), generic.data(), std::min(generic.size(), ip.capacity()));
  ip.resize(std::min(generic.size(), ip.capacity()));
  return ip;
}

// Who is at the other end of an accepted connection, for the logs and the
// frames: the IP address of a TCP peer, the pid of a local one. nullopt when
// the peer has gone already.
struct Peer {
  std::string address;  // "" for a local peer
  std::string display;
};
std::optional<Peer> describe_peer(asio::generic::stream_protocol::socket& socket) {
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) return std::nullopt;
  if (remote.protocol().family() == AF_UNIX) {
    ucred cred{};
    socklen_t size = sizeof cred;
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0)
      return std::nullopt;
    return Peer{"", "the local socket (pid " + std::to_string(cred.pid) + ")"};
  }
  std::string address = as_tcp(remote).address().to_string();
  return Peer{address, address};
}
}  // namespace

struct AgentEndpoint::Connection {
  Connection(asio::generic::stream_protocol::socket s, std::string i, std::string p,
             CurveServer::Authorize authorize, const zmtp::Key& public_key,
             const zmtp::Key& secret_key)
      : socket(std::move(s)),
        timer(socket.get_executor()),
        session(public_key, secret_key, proto::kMaxMessageSize, std::move(authorize)),
        id(std::move(i)),
        peer(std::move(p)) {}

  asio::generic::stream_protocol::socket socket;
  asio::steady_timer timer;  // the handshake's deadline
  CurveServer session;
  std::string id;
  std::string peer;            // for the logs: an address, or the local socket and pid
  std::string address;         // the IP address, "" for a local peer
  int64_t last_heard = 0;      // steady ms of its last byte
  bool in_handshake = true;    // counted in handshaking_
  bool write_waiting = false;  // a wait for the socket to take more is pending
  bool closed = false;
};

AgentEndpoint::AgentEndpoint(asio::io_context& io, CurveServer::Authorize authorize,
                             const Clock& clock)
    : io_(io), authorize_(std::move(authorize)), clock_(clock) {}

AgentEndpoint::~AgentEndpoint() {
  stop();
  sodium_memzero(secret_key_.data(), secret_key_.size());
}

Status AgentEndpoint::start(const std::string& endpoint, const crypto::KeyPair& keys,
                            Handler handler) {
  if (!crypto::key_from_text(keys.public_key, public_key_.data()) ||
      !crypto::key_from_text(keys.secret_key, secret_key_.data())) {
    return Error(Code::kInvalidArgument, "the controller's key pair is not a valid CURVE key pair");
  }
  SLIPWAY_ASSIGN_OR_RETURN(tcp::endpoint where, parse_listen(endpoint));
  handler_ = std::move(handler);
  SLIPWAY_RETURN_IF_ERROR(listen(Stream::endpoint(where), endpoint));
  boost::system::error_code ec;
  tcp::endpoint ip = as_tcp(acceptors_.back()->local_endpoint(ec));
  port_ = ip.port();
  std::string host = ip.address().to_string();
  bound_ =
      "tcp://" + (ip.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(port_);
  stopped_ = false;
  return ok_status();
}

Status AgentEndpoint::listen_local(const std::string& path) {
  const std::string endpoint = "ipc://" + path;
  if (stopped_) return Error(Code::kFailedPrecondition, "the agent endpoint is not started");
  if (!ipc_path(endpoint)) {
    return Error(Code::kInvalidArgument, "cannot listen for agents on " + endpoint +
                                             ": it must be an absolute path of at most " +
                                             std::to_string(kMaxSocketPath) +
                                             " bytes with no spaces");
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Error(Code::kFailedPrecondition, "cannot listen for agents on " + endpoint +
                                                  ": a file that is not a socket is there");
    }
    ::unlink(path.c_str());  // a dead controller's; the data directory's lock says no live one's
  }
  SLIPWAY_RETURN_IF_ERROR(
      listen(Stream::endpoint(asio::local::stream_protocol::endpoint(path)), endpoint));
  local_ = endpoint;
  // Connecting takes write permission on the socket: the owner's alone. Until
  // this chmod the directory (0700) is what keeps others out.
  if (::chmod(path.c_str(), 0600) != 0)
    LOG_WARN("cannot make %s mode 0600: %s", path.c_str(), std::strerror(errno));
  return ok_status();
}

// Opens, binds and listens on one more acceptor and starts accepting on it.
Status AgentEndpoint::listen(const Stream::endpoint& where, const std::string& endpoint) {
  auto acceptor = std::make_unique<Acceptor>(io_);
  boost::system::error_code ec;
  acceptor->open(where.protocol(), ec);
  if (!ec && where.protocol().family() != AF_UNIX)
    acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(where, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error(Code::kUnavailable,
                 "cannot listen for agents on " + endpoint + ": " + ec.message());
  }
  acceptors_.push_back(std::move(acceptor));
  accept(*acceptors_.back());
  return ok_status();
}

void AgentEndpoint::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  boost::system::error_code ignored;
  for (auto& acceptor : acceptors_) acceptor->close(ignored);
  if (auto path = ipc_path(local_)) ::unlink(path->c_str());
  auto all = std::move(connections_);
  connections_.clear();
  for (auto& [id, c] : all) close(c);
}

void AgentEndpoint::accept(Acceptor& acceptor) {
  std::weak_ptr<bool> alive = alive_;
  acceptor.async_accept(
      [this, alive, &acceptor](const boost::system::error_code& ec, Stream::socket socket) {
        if (alive.expired() || !*alive.lock()) return;
        if (!ec) {
          open(std::move(socket));
          accept(acceptor);
          return;
        }
        if (ec == asio::error::operation_aborted) return;
        // Out of descriptors or the like: try again shortly rather than spin.
        LOG_WARN("cannot accept an agent connection: %s", ec.message().c_str());
        auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
        timer->async_wait([this, alive, timer, &acceptor](const boost::system::error_code&) {
          if (!alive.expired() && *alive.lock()) accept(acceptor);
        });
      });
}

void AgentEndpoint::open(Stream::socket socket) {
  boost::system::error_code ec;
  auto peer = describe_peer(socket);
  if (!peer) return;  // already gone
  if (!peer->address.empty()) socket.set_option(tcp::no_delay(true), ec);
  socket.non_blocking(true, ec);
  size_t& from_address = handshaking_from_[peer->address];
  if (handshaking_ >= kMaxHandshaking ||
      (!peer->address.empty() && from_address >= kMaxHandshakingPerAddress)) {
    if (quiet_.allow(clock_.steady_ms()))
      LOG_WARN("closed a connection from %s: %zu others%s are still in their handshake",
               peer->display.c_str(), handshaking_ >= kMaxHandshaking ? handshaking_ : from_address,
               handshaking_ >= kMaxHandshaking ? "" : " from there");
    if (from_address == 0) handshaking_from_.erase(peer->address);
    return;  // the socket closes as it goes out of scope
  }
  ++handshaking_;
  ++from_address;
  auto c = std::make_shared<Connection>(std::move(socket), "c" + std::to_string(next_id_++),
                                        peer->display, authorize_, public_key_, secret_key_);
  c->address = peer->address;
  c->last_heard = clock_.steady_ms();
  connections_.emplace(c->id, c);
  std::weak_ptr<Connection> weak = c;
  c->timer.expires_after(handshake_time_);
  c->timer.async_wait([this, weak](const boost::system::error_code& error) {
    auto late = weak.lock();
    if (error || !late || late->closed || late->session.ready()) return;
    LOG_INFO("closed a connection from %s: no CurveZMQ handshake in time", late->peer.c_str());
    close(late);
  });
  flush(c);  // the greeting
  read(c);
}

// Waits until the socket has bytes, then reads them into the endpoint's one
// buffer: a connection holds no read buffer of its own while it waits.
void AgentEndpoint::read(const ConnectionPtr& c) {
  if (c->closed) return;
  c->socket.async_wait(Stream::socket::wait_read, [this, c](const boost::system::error_code& ec) {
    if (c->closed) return;
    if (ec) {
      close(c);
      return;
    }
    // A few reads per turn, then the other connections get theirs.
    for (int reads = 0; reads < 4 && !c->closed; ++reads) {
      boost::system::error_code error;
      size_t n = c->socket.read_some(asio::buffer(buffer_), error);
      if (error == asio::error::would_block || error == asio::error::try_again) break;
      if (error) {
        if (error != asio::error::eof && error != asio::error::connection_reset)
          LOG_DEBUG("agent connection from %s: %s", c->peer.c_str(), error.message().c_str());
        close(c);
        return;
      }
      c->last_heard = clock_.steady_ms();
      received(c, std::string_view(buffer_.data(), n));
    }
    read(c);
  });
}

void AgentEndpoint::received(const ConnectionPtr& c, std::string_view bytes) {
  std::vector<std::string> messages;
  size_t dropped = 0;
  Status fed = c->session.feed(bytes, &messages, &dropped);
  if (c->session.ready()) handshake_over(c);
  if (!fed.ok()) {
    std::string why = fed.error().code() == Code::kPermissionDenied
                          ? "refused an agent from " + c->peer + ": its key " +
                                c->session.client_key().substr(0, 8) +
                                "... is not registered or was revoked"
                          : "closed a connection from " + c->peer + ": " + fed.error().message();
    // Anyone can open a connection and fail its handshake: at most one such
    // warning a second, the rest at debug level.
    if (quiet_.allow(clock_.steady_ms()))
      LOG_WARN("%s", why.c_str());
    else
      LOG_DEBUG("%s", why.c_str());
  }
  if (dropped > 0) {
    malformed_ += dropped;
    LOG_WARN("dropped %zu multi-frame messages from agent key %.8s...", dropped,
             c->session.client_key().c_str());
  }
  for (auto& message : messages) {
    if (c->closed) break;
    auto decoded = proto::decode_agent_message(message);
    if (!decoded.ok()) {
      ++malformed_;
      LOG_WARN("dropped a message from agent key %.8s...: %s", c->session.client_key().c_str(),
               decoded.error().message().c_str());
      continue;
    }
    try {
      handler_(AgentFrame{c->session.client_key(), c->id, c->address, std::move(*decoded)});
    } catch (const std::exception& e) {
      // The last line of defence: one message must not take slipwayd down.
      LOG_ERROR("a message from agent key %.8s... failed with an exception: %s",
                c->session.client_key().c_str(), e.what());
    }
  }
  flush(c);
  // A broken or refused connection ends here, once its ERROR, if any, has
  // had its one chance to be written.
  if (!fed.ok()) close(c);
}

// Writes what the socket takes now; the rest when it is writable again.
void AgentEndpoint::flush(const ConnectionPtr& c) {
  while (!c->closed) {
    std::string_view out = c->session.outbound();
    if (out.empty()) return;
    boost::system::error_code ec;
    size_t n = c->socket.write_some(asio::buffer(out.data(), out.size()), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      close(c);
      return;
    }
    c->session.written(n);
  }
  if (c->closed || c->write_waiting) return;
  c->write_waiting = true;
  c->socket.async_wait(Stream::socket::wait_write, [this, c](const boost::system::error_code& ec) {
    c->write_waiting = false;
    if (ec || c->closed) return;
    flush(c);
  });
}

// Counts a connection out of the handshakes once: when it is ready, or
// closed before.
void AgentEndpoint::handshake_over(const ConnectionPtr& c) {
  if (!c->in_handshake) return;
  c->in_handshake = false;
  --handshaking_;
  auto from = handshaking_from_.find(c->address);
  if (from != handshaking_from_.end() && --from->second == 0) handshaking_from_.erase(from);
}

void AgentEndpoint::close(const ConnectionPtr& c) {
  if (c->closed) return;
  c->closed = true;
  handshake_over(c);
  boost::system::error_code ignored;
  c->timer.cancel();
  c->socket.close(ignored);
  connections_.erase(c->id);
}

void AgentEndpoint::disconnect(const std::string& routing_id) {
  auto it = connections_.find(routing_id);
  if (it != connections_.end()) close(ConnectionPtr(it->second));
}

size_t AgentEndpoint::close_silent(std::chrono::milliseconds silence) {
  const int64_t now = clock_.steady_ms();
  std::vector<ConnectionPtr> silent;
  for (const auto& [id, c] : connections_) {
    if (!c->in_handshake && now - c->last_heard > silence.count()) silent.push_back(c);
  }
  for (const auto& c : silent) {
    LOG_INFO("closed the connection from %s: nothing heard for %lld s", c->peer.c_str(),
             static_cast<long long>((now - c->last_heard) / 1000));
    close(c);
  }
  return silent.size();
}

bool AgentEndpoint::send(const std::string& routing_id, const proto::ControllerMessage& message) {
  auto it = connections_.find(routing_id);
  if (stopped_ || it == connections_.end()) return false;
  ConnectionPtr c = it->second;
  if (!c->session.ready() || c->session.outbound().size() > kMaxQueued) return false;
  c->session.send(proto::encode(message));
  flush(c);
  return true;
}

}  // namespace slipway::controller
