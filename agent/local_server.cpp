#include "agent/local_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/frame.h"
#include "common/log.h"

namespace slipway::agent {

LocalServer::~LocalServer() {
  close();
}

Status LocalServer::listen(const std::string& path) {
  close();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    return Error(Code::kInvalidArgument, "the socket path " + path + " is too long");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(Code::kIo, std::string("cannot make a socket: ") + std::strerror(errno));
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 64) != 0) {
    Error error(Code::kIo, "cannot listen on " + path + ": " + std::strerror(errno));
    ::close(fd);
    return error;
  }
  listen_fd_ = fd;
  path_ = path;
  loop_.watch_fd(listen_fd_, POLLIN, [this](short) { on_accept(); });
  return ok_status();
}

void LocalServer::close() {
  while (!clients_.empty()) drop(clients_.begin()->first);
  if (listen_fd_ >= 0) {
    loop_.unwatch_fd(listen_fd_);
    ::close(listen_fd_);
    ::unlink(path_.c_str());
    listen_fd_ = -1;
  }
}

void LocalServer::on_accept() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        LOG_WARN("local socket: %s", std::strerror(errno));
      return;
    }
    if (clients_.size() >= kMaxClients) {
      LOG_WARN("local socket: more than %zu clients; refusing one", kMaxClients);
      ::close(fd);
      continue;
    }
    clients_[fd].fd = fd;
    watch(fd, false);
  }
}

void LocalServer::on_client(int fd, short revents) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& client = it->second;
  if ((revents & POLLOUT) && !write_out(client)) return;
  if (!(revents & (POLLIN | POLLERR))) return;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      client.in.append(buffer, static_cast<size_t>(n));
      if (client.in.size() > local::kMaxLocalFrame + frame::kHeaderSize) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    drop(fd);  // the client went away: its request is forgotten
    return;
  }
  process(client);
}

void LocalServer::process(Client& client) {
  int fd = client.fd;
  while (client.request == 0 && !client.close_after_write &&
         client.in.size() >= frame::kHeaderSize) {
    uint32_t size = frame::decode_header(reinterpret_cast<const unsigned char*>(client.in.data()));
    if (size > local::kMaxLocalFrame) {
      client.close_after_write = true;
      reply(fd, local::Answer{code_name(Code::kInvalidArgument),
                              "",
                              {},
                              "the request is larger than " +
                                  std::to_string(local::kMaxLocalFrame) + " bytes"});
      return;
    }
    if (client.in.size() < frame::kHeaderSize + size) return;
    std::string payload = client.in.substr(frame::kHeaderSize, size);
    client.in.erase(0, frame::kHeaderSize + size);
    auto request = local::decode_request(payload);
    if (!request.ok()) {
      reply(fd,
            local::Answer{code_name(request.error().code()), "", {}, request.error().message()});
      if (!clients_.count(fd)) return;
      continue;
    }
    // The answer may come at once (from inside submit) or much later.
    client.request = ~uint64_t{0};
    uint64_t id = requests_.submit(std::move(*request), [this, fd](const local::Answer& answer) {
      auto it = clients_.find(fd);
      if (it == clients_.end()) return;
      it->second.request = 0;
      reply(fd, answer);
      if (clients_.count(fd)) process(clients_.at(fd));
    });
    auto it = clients_.find(fd);
    if (it == clients_.end() || it->second.request == 0) return;
    it->second.request = id;
    return;
  }
}

void LocalServer::reply(int fd, const local::Answer& answer) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  it->second.out += frame::encode(local::encode_answer(answer));
  write_out(it->second);
}

bool LocalServer::write_out(Client& client) {
  int fd = client.fd;
  while (!client.out.empty()) {
    ssize_t n = ::send(fd, client.out.data(), client.out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      client.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!client.watching_out) watch(fd, true);
      client.watching_out = true;
      return true;
    }
    drop(fd);
    return false;
  }
  if (client.close_after_write) {
    drop(fd);
    return false;
  }
  if (client.watching_out) watch(fd, false);
  client.watching_out = false;
  return true;
}

void LocalServer::watch(int fd, bool writable) {
  loop_.watch_fd(fd, POLLIN | (writable ? POLLOUT : 0),
                 [this, fd](short revents) { on_client(fd, revents); });
}

void LocalServer::drop(int fd) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  uint64_t request = it->second.request;
  clients_.erase(it);
  if (request != 0 && request != ~uint64_t{0}) requests_.cancel(request);
  loop_.unwatch_fd(fd);
  ::close(fd);
}

}  // namespace slipway::agent
