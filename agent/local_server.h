// The agent's local socket (agent/local_protocol.h): a Unix stream socket,
// mode 0600, that the ss-* commands connect to. Non-blocking on the agent's
// EventLoop; many clients at once, each with one request in flight (further
// frames wait in its buffer). A request is handed to PendingRequests and its
// answer written back; a client that goes away has its request forgotten.
//
// Not thread-safe: runs on the agent's EventLoop.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "agent/event_loop.h"
#include "agent/pending_requests.h"
#include "common/status.h"

namespace slipway::agent {

class LocalServer {
 public:
  static constexpr size_t kMaxClients = 256;

  LocalServer(EventLoop& loop, PendingRequests& requests) : loop_(loop), requests_(requests) {}
  ~LocalServer();
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  // Binds `path` (a stale socket there is replaced) and starts serving.
  Status listen(const std::string& path);
  // Stops serving, drops every client and removes the socket file.
  void close();
  size_t clients() const { return clients_.size(); }

 private:
  struct Client {
    int fd = -1;
    std::string in;
    std::string out;
    uint64_t request = 0;  // in flight, 0 when none
    bool close_after_write = false;
    bool watching_out = false;
  };

  void on_accept();
  void on_client(int fd, short revents);
  void process(Client& client);
  void reply(int fd, const local::Answer& answer);
  bool write_out(Client& client);
  void drop(int fd);
  void watch(int fd, bool writable);

  EventLoop& loop_;
  PendingRequests& requests_;
  std::string path_;
  int listen_fd_ = -1;
  std::map<int, Client> clients_;
};

}  // namespace slipway::agent
