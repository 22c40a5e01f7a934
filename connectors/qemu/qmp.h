// A QMP conversation with one qemu (its JSON control protocol): connect to
// DIR/qmp.sock, read the greeting, leave capabilities negotiation, then run
// commands. Only what the connector needs: whether the machine runs, quit.
//
// The socket is reached through an O_PATH handle on DIR
// (/proc/self/fd/N/qmp.sock), so a deep state directory cannot overflow the
// 108 bytes of a Unix socket path.
//
// Not thread-safe: one conversation per thread.
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"

namespace slipway::connectors::qemu {

class Qmp {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // Connects and negotiates. kUnavailable while qemu has not made its socket
  // yet or is not listening; other errors when it hangs up or says nonsense.
  static Result<Qmp> connect(const std::string& dir, Deadline deadline);

  Qmp(Qmp&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) { other.fd_ = -1; }
  Qmp& operator=(Qmp&&) = delete;
  Qmp(const Qmp&) = delete;
  Qmp& operator=(const Qmp&) = delete;
  ~Qmp();

  // Runs a command without arguments; returns the answer's line (JSON whose
  // first key is "return"). Events that arrive first are skipped; an "error"
  // answer is an error holding qemu's description.
  Result<std::string> execute(const std::string& command, Deadline deadline);

 private:
  explicit Qmp(int fd) : fd_(fd) {}
  Result<std::string> read_message(Deadline deadline);

  int fd_ = -1;
  std::string buffer_;
};

// The first key of a QMP message ("QMP", "return", "error", "timestamp").
std::string qmp_first_key(const std::string& message);

}  // namespace slipway::connectors::qemu
