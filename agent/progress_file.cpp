#include "agent/progress_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs.h"

namespace slipway::agent {

Status ProgressFile::load() {
  ids_.clear();
  if (!fs::exists(path_)) return ok_status();
  SLIPWAY_ASSIGN_OR_RETURN(std::string text, fs::read_file(path_, 16 << 20));
  size_t start = 0;
  for (size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    if (end > start) ids_.insert(text.substr(start, end - start));
    start = end + 1;
  }
  return ok_status();
}

Status ProgressFile::record(const std::string& id) {
  if (id.empty() || id.find('\n') != std::string::npos || id.find('\0') != std::string::npos) {
    return Error(Code::kInvalidArgument, "a step id may not be empty or hold a newline");
  }
  if (contains(id)) return ok_status();
  bool created = !fs::exists(path_);
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Error(Code::kIo, "cannot open " + path_ + ": " + std::strerror(errno));
  std::string line = id + "\n";
  ssize_t n;
  do {
    n = ::write(fd, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  bool ok = n == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) return Error(Code::kIo, "cannot write " + path_ + ": " + std::strerror(saved));
  if (created) {
    // The new directory entry must be durable too.
    int dir = ::open(fs::dirname(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
  }
  ids_.insert(id);
  return ok_status();
}

}  // namespace slipway::agent
