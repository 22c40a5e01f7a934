#include "connectors/common/machines.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/fs.h"
#include "common/log.h"
#include "connectors/common/ipv4.h"
#include "connectors/common/parallel.h"

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

std::vector<Result<Machine>> launch_machines(
    const std::vector<MachineSpec>& specs, size_t max_threads,
    const std::function<Result<Machine>(const MachineSpec&)>& launch_one,
    const LaunchProgress& progress) {
  std::vector<std::optional<Result<Machine>>> slots(specs.size());
  parallel_for(specs.size(), max_threads, [&](size_t i) {
    slots[i] = launch_one(specs[i]);
    if (progress) progress(i, *slots[i]);
  });
  std::vector<Result<Machine>> results;
  results.reserve(specs.size());
  for (auto& slot : slots) results.push_back(std::move(*slot));
  return results;
}

std::vector<Status> terminate_machines(
    const std::string& cloud, const std::vector<std::string>& ids, size_t max_threads,
    const std::function<Status(const std::string&)>& terminate_one) {
  std::vector<Status> results(ids.size());
  parallel_for(ids.size(), max_threads, [&](size_t i) {
    Status s = terminate_one(ids[i]);
    if (!s.ok()) results[i] = s.error().wrap("cannot terminate machine " + ids[i]);
  });
  for (const auto& s : results) {
    if (!s.ok()) LOG_WARN("cloud %s: %s", cloud.c_str(), s.error().message().c_str());
  }
  return results;
}

Result<std::vector<std::string>> list_machine_dirs(const std::string& root) {
  if (!fs::exists(root)) return std::vector<std::string>{};
  SLIPWAY_ASSIGN_OR_RETURN(auto names, fs::list_dir(root));
  std::vector<std::string> ids;
  for (auto& name : names) {
    // Skips what is not a machine (write_file_atomic's leftovers, stray files).
    if (check_machine_id(name).ok() && fs::exists(root + "/" + name + "/.")) ids.push_back(name);
  }
  return ids;
}

Status create_machine_dir(const std::string& path, const std::string& machine_id) {
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(fs::dirname(path), 0700));
  if (::mkdir(path.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return Error(Code::kAlreadyExists, "machine " + machine_id + " already exists on this cloud");
    }
    return Error(Code::kIo, "cannot create " + path + ": " + std::strerror(errno));
  }
  return ok_status();
}

std::string MachineRecordBase::record_text(
    const std::vector<std::pair<std::string, std::string>>& own) const {
  std::string text = "machine_id=" + machine_id + "\nhostname=" + hostname +
                     "\naddress=" + format_ipv4(address) + "\npid=" + std::to_string(pid) +
                     "\nstart=" + std::to_string(start_time) + "\n";
  for (const auto& [key, value] : own) text += key + "=" + value + "\n";
  return text;
}

Result<std::map<std::string, std::string>> MachineRecordBase::parse_base(const std::string& text) {
  std::map<std::string, std::string> fields;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    size_t eq = line.find('=');
    if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  }
  auto field = [&](const char* key) {
    auto it = fields.find(key);
    return it == fields.end() ? std::string() : it->second;
  };
  machine_id = field("machine_id");
  hostname = field("hostname");
  pid = static_cast<pid_t>(std::strtol(field("pid").c_str(), nullptr, 10));
  start_time = std::strtoull(field("start").c_str(), nullptr, 10);
  if (fields.count("address") != 0) {
    auto parsed = parse_ipv4(fields["address"]);
    if (!parsed.ok()) return Error(Code::kInvalidArgument, "the record has a bad address");
    address = *parsed;
  }
  if (machine_id.empty() || address == 0) {
    return Error(Code::kInvalidArgument, "the record is incomplete");
  }
  return fields;
}

std::vector<Machine> describe_machines(
    const std::vector<std::string>& ids,
    const std::function<Result<MachineState>(const std::string&)>& lookup) {
  std::vector<Machine> out;
  for (const auto& id : ids) {
    Machine m{id, "", "gone"};
    if (check_machine_id(id).ok()) {
      auto state = lookup(id);
      if (state.ok()) {
        m.address = format_ipv4(state->address);
        m.vmstate = state->running ? "running" : "stopped";
      } else if (state.error().code() != Code::kNotFound) {
        m.vmstate = "unknown";
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace slipway::connectors
