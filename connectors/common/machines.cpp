#include "connectors/common/machines.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace slipway::connectors {
namespace {

bool valid_hostname(const std::string& name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

Status check_machine_id(const std::string& machine_id) {
  bool ok = !machine_id.empty() && machine_id.size() <= 64 && machine_id[0] != '.';
  for (char c : machine_id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '_');
  }
  if (ok) return ok_status();
  return Error(Code::kInvalidArgument, "machine id \"" + machine_id +
                                           "\" must be 1 to 64 letters, digits, '.', '-' or '_'");
}

Result<std::string> machine_hostname(const MachineSpec& spec) {
  if (!spec.hostname.empty()) {
    if (valid_hostname(spec.hostname)) return spec.hostname;
    return Error(Code::kInvalidArgument, "\"" + spec.hostname + "\" is not a valid host name");
  }
  std::string name;
  for (char c : spec.machine_id.substr(0, 63)) {
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  while (!name.empty() && name.front() == '-') name.erase(0, 1);
  return name.empty() ? std::string("machine") : name;
}

Result<std::string> read_tail(const std::string& path, size_t max_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::string();
    return Error(Code::kIo, "cannot read " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  std::string out;
  if (::fstat(fd, &st) == 0) {
    off_t from =
        st.st_size > static_cast<off_t>(max_size) ? st.st_size - static_cast<off_t>(max_size) : 0;
    out.resize(static_cast<size_t>(st.st_size - from));
    ssize_t n = ::pread(fd, out.data(), out.size(), from);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  ::close(fd);
  return out;
}

}  // namespace slipway::connectors
