#include "controller/control/control_server.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <deque>

#include "common/frame.h"
#include "common/fs.h"
#include "common/log.h"
#include "controller/control/control_protocol.h"

namespace slipway::controller {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

// One client connection. Requests are answered in order, one at a time.
// What one client may have waiting: answers not yet read, requests not yet
// answered.
constexpr size_t kMaxQueuedBytes = 32u << 20;
constexpr size_t kMaxPendingRequests = 64;

class ControlSession final : public ReplySink, public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(ControlServer& server, stream::socket socket, Caller caller)
      : server_(server),
        socket_(std::move(socket)),
        caller_(std::move(caller)),
        server_alive_(server.alive_) {
    ++server_.sessions_;
  }
  ~ControlSession() {
    if (!server_alive_.expired() && *server_alive_.lock()) --server_.sessions_;
  }

  void start() { read_header(); }

  void send(Value message, bool final) override {
    if (closed_ || answered_) return;
    if (final) answered_ = true;
    writes_.push_back(frame::encode(message.pack()));
    queued_bytes_ += writes_.back().size();
    if (queued_bytes_ > kMaxQueuedBytes) {
      // A follower that does not read what it asked for: drop it rather than
      // hold its backlog in slipwayd's memory.
      LOG_WARN("control client uid %d reads too slowly (%zu bytes waiting); hanging up",
               static_cast<int>(caller_.uid), queued_bytes_);
      close();
      return;
    }
    if (writes_.size() == 1) write_next();
    if (final) {
      close_callbacks_.clear();
      // The next queued request, if any, after this answer.
      auto self = shared_from_this();
      asio::post(socket_.get_executor(), [self] { self->next_request(); });
    }
  }
  bool closed() const override { return closed_; }
  bool answered() const { return answered_; }
  // Runs `callback` once everything queued so far is written.
  void when_drained(std::function<void()> callback) override {
    if (closed_) return;
    if (writes_.empty()) {
      asio::post(socket_.get_executor(), std::move(callback));
      return;
    }
    drained_ = std::move(callback);
  }
  void on_close(std::function<void()> callback) override {
    if (closed_) {
      callback();
      return;
    }
    close_callbacks_.push_back(std::move(callback));
  }

 private:
  void read_header() {
    auto self = shared_from_this();
    asio::async_read(socket_, asio::buffer(header_),
                     [self](const boost::system::error_code& ec, size_t) {
                       if (ec) return self->close();
                       self->read_body();
                     });
  }

  void read_body() {
    uint32_t size = frame::decode_header(header_);
    if (size > frame::kMaxControlFrame) {
      // We cannot find the next frame boundary: answer, then hang up.
      pending_.push_back(
          Value::object()
              .set(std::string(control_protocol::kOp), "")
              .set("_error", "request of " + std::to_string(size) + " bytes is over the limit"));
      maybe_dispatch();
      hang_up_after_answer_ = true;
      return;
    }
    body_.assign(size, '\0');
    auto self = shared_from_this();
    asio::async_read(
        socket_, asio::buffer(body_), [self](const boost::system::error_code& ec, size_t) {
          if (ec) return self->close();
          auto request = Value::unpack(self->body_);
          self->body_.clear();
          if (!request.ok() || !request->is_object() ||
              !(*request)[control_protocol::kOp].is_string()) {
            self->pending_.push_back(
                Value::object()
                    .set(std::string(control_protocol::kOp), "")
                    .set("_error", request.ok() ? "a request must be a map with an \"op\""
                                                : "the request is not valid msgpack: " +
                                                      request.error().message()));
          } else {
            self->pending_.push_back(std::move(*request));
          }
          self->maybe_dispatch();
          // Requests are answered one at a time; a client far ahead of its
          // answers is not served further.
          if (self->pending_.size() > kMaxPendingRequests) {
            LOG_WARN("control client uid %d sent over %zu requests ahead; hanging up",
                     static_cast<int>(self->caller_.uid), kMaxPendingRequests);
            return self->close();
          }
          self->read_header();
        });
  }

  void maybe_dispatch() {
    if (busy_ || pending_.empty() || closed_) return;
    busy_ = true;
    answered_ = false;
    Value request = std::move(pending_.front());
    pending_.pop_front();
    Reply reply(shared_from_this());
    if (request.has("_error")) {
      reply.fail(Error(Code::kUsage, request["_error"].str()));
      return;
    }
    if (!server_alive_.expired() && *server_alive_.lock())
      server_.dispatch(caller_, request, reply);
  }

  void next_request() {
    busy_ = false;
    if (hang_up_after_answer_) return;
    maybe_dispatch();
  }

  void write_next() {
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(writes_.front()),
                      [self](const boost::system::error_code& ec, size_t) {
                        if (ec) return self->close();
                        self->queued_bytes_ -= self->writes_.front().size();
                        self->writes_.pop_front();
                        if (!self->writes_.empty()) {
                          self->write_next();
                        } else if (self->drained_) {
                          auto drained = std::move(self->drained_);
                          self->drained_ = nullptr;
                          drained();
                        } else if (self->hang_up_after_answer_ && self->answered_) {
                          self->close();
                        }
                      });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    drained_ = nullptr;  // it may hold a Reply, and so this session
    boost::system::error_code ignored;
    socket_.close(ignored);
    auto callbacks = std::move(close_callbacks_);
    close_callbacks_.clear();
    if (!answered_) {
      for (auto& callback : callbacks) callback();
    }
  }

  ControlServer& server_;
  stream::socket socket_;
  Caller caller_;
  std::weak_ptr<bool> server_alive_;
  unsigned char header_[frame::kHeaderSize]{};
  std::string body_;
  std::deque<Value> pending_;
  std::deque<std::string> writes_;
  size_t queued_bytes_ = 0;  // in writes_
  std::function<void()> drained_;
  std::vector<std::function<void()>> close_callbacks_;
  bool busy_ = false;
  bool answered_ = false;
  bool closed_ = false;
  bool hang_up_after_answer_ = false;
};

ControlServer::ControlServer(asio::io_context& io) : io_(io) {}
ControlServer::~ControlServer() {
  *alive_ = false;
  stop();
}

void ControlServer::handle(const std::string& op, ControlHandler handler) {
  handlers_[op] = std::move(handler);
}

Status ControlServer::start(const std::string& path, const std::string& group) {
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(fs::dirname(path), 0755));
  if (fs::exists(path)) {
    // A socket someone still answers on belongs to a running controller.
    stream::socket probe(io_);
    boost::system::error_code ec;
    probe.connect(stream::endpoint(path), ec);
    if (!ec) {
      return Error(Code::kAlreadyExists, "another slipwayd is already listening on " + path);
    }
    ::unlink(path.c_str());
  }
  try {
    acceptor_ = std::make_unique<stream::acceptor>(io_, stream::endpoint(path));
  } catch (const boost::system::system_error& e) {
    return Error(Code::kIo, "cannot listen on control socket " + path + ": " + e.code().message());
  }
  path_ = path;
  if (std::optional<gid_t> gid = lookup_group(group)) {
    if (::chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
      LOG_WARN("cannot give control socket %s to group %s", path.c_str(), group.c_str());
    }
  } else {
    LOG_INFO("group %s does not exist; only the owner can use %s", group.c_str(), path.c_str());
  }
  ::chmod(path.c_str(), 0660);
  accept();
  return ok_status();
}

void ControlServer::stop() {
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    acceptor_.reset();
    ::unlink(path_.c_str());
  }
}

namespace {

Caller identify(int fd, gid_t admin_gid) {
  Caller caller;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    caller.uid = cred.uid;
    caller.gid = cred.gid;
    caller.pid = cred.pid;
  } else {
    caller.uid = static_cast<uid_t>(-1);  // unknown: nobody
    caller.gid = static_cast<gid_t>(-1);
  }
  std::vector<gid_t> groups(256);
  socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
    groups.resize(glen / sizeof(gid_t));
    caller.groups = std::move(groups);
  }
  caller.admin =
      caller.uid == 0 || (admin_gid != static_cast<gid_t>(-1) && caller.in_group(admin_gid));
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwuid_r(caller.uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found) {
    caller.user = found->pw_name;
  } else {
    caller.user = std::to_string(caller.uid);
  }
  return caller;
}

}  // namespace

void ControlServer::accept() {
  if (!acceptor_) return;
  std::weak_ptr<bool> alive = alive_;
  acceptor_->async_accept(
      [this, alive](const boost::system::error_code& ec, stream::socket socket) {
        if (alive.expired() || !*alive.lock() || !acceptor_) return;
        if (!ec) {
          Caller caller = identify(socket.native_handle(), admin_gid_);
          std::make_shared<ControlSession>(*this, std::move(socket), std::move(caller))->start();
        } else if (ec == asio::error::operation_aborted) {
          return;
        }
        accept();
      });
}

void ControlServer::dispatch(const Caller& caller, const Value& request, Reply reply) {
  const std::string& op = request[control_protocol::kOp].str();
  auto it = handlers_.find(op);
  if (it == handlers_.end()) {
    reply.fail(
        Error(Code::kUsage, "unknown request \"" + op + "\"; is slipway newer than slipwayd?"));
    return;
  }
  // The last line of defence: a handler that throws answers with an error
  // instead of taking slipwayd down (and is logged: it is a bug).
  try {
    it->second(caller, request, reply);
  } catch (const std::exception& e) {
    LOG_ERROR("request %s failed with an exception: %s", op.c_str(), e.what());
    reply.fail(Error(Code::kInternal,
                     "slipwayd could not handle this " + op + " request (" + e.what() + ")"));
  }
}

}  // namespace slipway::controller
