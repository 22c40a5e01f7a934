// The control socket: a Unix stream socket (mode 0660, group configurable)
// carrying framed msgpack requests from `slipway`. The caller's identity comes
// from SO_PEERCRED and SO_PEERGROUPS, never from the request.
//
// A request is a map {"op": NAME, ...arguments}. The answer is one final map
// {"ok": true, "result": ...} or {"ok": false, "code": CODE, "error": SENTENCE},
// optionally preceded by streamed {"event": ...} maps (logs -f, deploy --wait).
//
// Not thread-safe: use from the event loop thread only.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/value.h"
#include "controller/catalog/caller.h"
#include "controller/control/reply.h"

namespace slipway::controller {

class ControlSession;

using ControlHandler = std::function<void(const Caller&, const Value& request, Reply reply)>;

class ControlServer {
 public:
  explicit ControlServer(boost::asio::io_context& io);
  ~ControlServer();

  // Who is an admin: the gid of the admin group (or -1 when it does not exist).
  void set_admin_gid(gid_t gid) { admin_gid_ = gid; }

  // Registers the handler of operation `op`.
  void handle(const std::string& op, ControlHandler handler);
  // Registers `method` of `handlers` (which outlives this server) for `op`.
  template <typename Handlers>
  void handle(std::string_view op, Handlers& handlers,
              void (Handlers::*method)(const Caller&, const Value&, Reply)) {
    handle(std::string(op),
           [&handlers, method](const Caller& caller, const Value& request, Reply reply) {
             (handlers.*method)(caller, request, std::move(reply));
           });
  }

  // Listens on `path`, creating its directory; mode 0660 and group `group`
  // when that group exists. Fails when another process is listening there.
  Status start(const std::string& path, const std::string& group);
  void stop();

  size_t sessions() const { return sessions_; }

 private:
  friend class ControlSession;
  void accept();
  void dispatch(const Caller& caller, const Value& request, Reply reply);

  boost::asio::io_context& io_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  std::map<std::string, ControlHandler> handlers_;
  std::string path_;
  gid_t admin_gid_ = static_cast<gid_t>(-1);
  size_t sessions_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace slipway::controller
