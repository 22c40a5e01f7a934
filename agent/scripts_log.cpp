#include "agent/scripts_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/log.h"

namespace slipway::agent {
namespace {

std::string utc_now() {
  char text[32];
  time_t now = ::time(nullptr);
  tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

ScriptsLog::~ScriptsLog() {
  if (fd_ >= 0) ::close(fd_);
}

void ScriptsLog::begin_step(const std::string& id, const std::string& what) {
  write((at_line_start_ ? "" : "\n") + std::string("=== ") + utc_now() + " step " + id +
        (what.empty() ? "" : " (" + what + ")") + "\n");
}

void ScriptsLog::append(std::string_view data) {
  write(data);
}

void ScriptsLog::end_step(const std::string& id, int exit_code) {
  write((at_line_start_ ? "" : "\n") + std::string("=== ") + utc_now() + " step " + id +
        " exited with code " + std::to_string(exit_code) + "\n");
}

void ScriptsLog::write(std::string_view data) {
  if (data.empty() || failed_) return;
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      failed_ = true;
      LOG_WARN("cannot open %s: %s; script output is not kept locally", path_.c_str(),
               std::strerror(errno));
      return;
    }
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed_ = true;
      LOG_WARN("cannot write %s: %s; script output is not kept locally", path_.c_str(),
               std::strerror(errno));
      return;
    }
    done += static_cast<size_t>(n);
  }
  at_line_start_ = data.back() == '\n';
}

}  // namespace slipway::agent
