#include "agent/lingering_pipes.h"

#include <unistd.h>

#include <algorithm>
#include <string>

#include "agent/child_process.h"

namespace slipway::agent {

LingeringPipes::~LingeringPipes() {
  while (!fds_.empty()) close(fds_.front());
}

void LingeringPipes::adopt(int fd, Sink sink) {
  if (fd < 0) return;
  if (fds_.size() >= kMaxPipes) close(fds_.front());
  fds_.push_back(fd);
  loop_.watch_fd(fd, POLLIN, [this, fd, sink = std::move(sink)](short) { on_readable(fd, sink); });
}

void LingeringPipes::on_readable(int fd, const Sink& sink) {
  std::string data;
  bool open = read_available(fd, data, 256 << 10);
  if (!data.empty() && sink) sink(data);
  if (!open) close(fd);
}

void LingeringPipes::close(int fd) {
  loop_.unwatch_fd(fd);
  ::close(fd);
  fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
}

}  // namespace slipway::agent
