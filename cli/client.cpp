#include "cli/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/frame.h"

namespace slipway::cli {

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

Status ControlClient::connect() {
  if (fd_ >= 0) return ok_status();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof address.sun_path) {
    return Error(Code::kUsage, "control socket path " + path_ + " is too long");
  }
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Error(Code::kUnavailable, std::string("socket: ") + std::strerror(errno));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    std::string hint = err == ENOENT || err == ECONNREFUSED ? " (is slipwayd running?)"
                       : err == EACCES                      ? " (are you in the slipway group?)"
                                                            : "";
    return Error(err == EACCES ? Code::kPermissionDenied : Code::kUnavailable,
                 "cannot reach slipwayd at " + path_ + ": " + std::strerror(err) + hint);
  }
  return ok_status();
}

Result<Value> ControlClient::call(const Value& request,
                                  const std::function<void(const Value&)>& on_event) {
  SLIPWAY_RETURN_IF_ERROR(connect());
  SLIPWAY_RETURN_IF_ERROR(frame::write_frame(fd_, request.pack()));
  for (;;) {
    auto payload = frame::read_frame(fd_, frame::kMaxControlFrame);
    if (!payload.ok()) {
      return Error(Code::kUnavailable, "slipwayd closed the connection before answering");
    }
    SLIPWAY_ASSIGN_OR_RETURN(Value answer, Value::unpack(*payload));
    if (answer.has("event")) {
      if (on_event) on_event(answer["event"]);
      continue;
    }
    if (answer["ok"].as_bool()) return answer["result"];
    std::string message = answer["error"].as_string("slipwayd gave no reason");
    return Error(code_from_name(answer["code"].str()), message);
  }
}

}  // namespace slipway::cli
