#include "connectors/qemu/qmp.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "connectors/qemu/vm_dir.h"

namespace slipway::connectors::qemu {
namespace {

constexpr size_t kMaxMessage = 1 << 20;

int milliseconds_left(Qmp::Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// The "desc" of an error answer, or the whole message.
std::string error_description(const std::string& message) {
  const std::string key = "\"desc\": \"";
  size_t at = message.find(key);
  if (at == std::string::npos) return message;
  at += key.size();
  size_t end = message.find('"', at);
  return message.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

std::string qmp_first_key(const std::string& message) {
  size_t open = message.find_first_not_of(" \t\r\n");
  if (open == std::string::npos || message[open] != '{') return "";
  size_t quote = message.find_first_not_of(" \t\r\n", open + 1);
  if (quote == std::string::npos || message[quote] != '"') return "";
  size_t end = message.find('"', quote + 1);
  if (end == std::string::npos) return "";
  return message.substr(quote + 1, end - quote - 1);
}

Result<Qmp> Qmp::connect(const std::string& dir, Deadline deadline) {
  int dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return Error(Code::kNotFound, "cannot open " + dir + ": " + std::strerror(errno));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d/%s", dir_fd,
                kQmpSocket);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::close(dir_fd);
    return Error(Code::kIo, std::string("cannot make a socket: ") + std::strerror(errno));
  }
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  int connect_errno = errno;
  ::close(dir_fd);
  Qmp qmp(fd);
  if (rc != 0) {
    Code code =
        connect_errno == ENOENT || connect_errno == ECONNREFUSED ? Code::kUnavailable : Code::kIo;
    return Error(
        code, "cannot connect to qemu's QMP socket: " + std::string(std::strerror(connect_errno)));
  }
  SLIPWAY_ASSIGN_OR_RETURN(std::string greeting, qmp.read_message(deadline));
  if (qmp_first_key(greeting) != "QMP") {
    return Error(Code::kIo, "qemu's QMP socket did not greet: " + greeting);
  }
  SLIPWAY_RETURN_IF_ERROR(qmp.execute("qmp_capabilities", deadline));
  return Result<Qmp>(std::move(qmp));
}

Qmp::~Qmp() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> Qmp::read_message(Deadline deadline) {
  for (;;) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string message = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return message;
    }
    if (buffer_.size() > kMaxMessage) return Error(Code::kIo, "qemu sent an oversized QMP message");
    pollfd p{fd_, POLLIN, 0};
    int n = ::poll(&p, 1, milliseconds_left(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(Code::kIo, std::string("poll: ") + std::strerror(errno));
    if (n == 0) return Error(Code::kTimeout, "qemu did not answer on QMP in time");
    char chunk[4096];
    ssize_t got = ::read(fd_, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Error(Code::kIo, std::string("QMP read: ") + std::strerror(errno));
    if (got == 0) return Error(Code::kIo, "qemu closed its QMP connection");
    buffer_.append(chunk, static_cast<size_t>(got));
  }
}

Result<std::string> Qmp::execute(const std::string& command, Deadline deadline) {
  const std::string request = "{\"execute\": \"" + command + "\"}\n";
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(Code::kIo, std::string("QMP write: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(std::string message, read_message(deadline));
    const std::string key = qmp_first_key(message);
    if (key == "return") return message;
    if (key == "error") {
      return Error(Code::kError, "qemu refused " + command + ": " + error_description(message));
    }
    // An event ("timestamp" first): not the answer.
  }
}

}  // namespace slipway::connectors::qemu
