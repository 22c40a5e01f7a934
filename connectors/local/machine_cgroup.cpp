#include "connectors/local/machine_cgroup.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

#include "common/fs.h"

namespace slipway::connectors::local {
namespace {

constexpr const char* kGroup = "slipway";
constexpr int64_t kCpuPeriodUs = 100000;

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

// rmdir of a group fails with EBUSY for a moment after its last process has
// exited, while the kernel finishes taking it out.
Status remove_group(const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return ok_status();
    if (errno != EBUSY || attempt == 50) {
      return Error(Code::kIo, "cannot remove control group " + path + ": " + std::strerror(errno));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Writes a limit file that only some kernels have (swap accounting).
Status write_if_present(const std::string& path, const std::string& value) {
  return fs::exists(path) ? fs::write_kernel_file(path, value) : ok_status();
}

}  // namespace

CgroupLayout CgroupLayout::detect(bool cpu, const std::string& root) {
  CgroupLayout layout;
  layout.root_ = root;
  layout.cpu_ = cpu;
  std::vector<std::string> controllers = {"memory"};
  if (cpu) controllers.push_back("cpu");
  const std::string wanted = cpu ? "memory and cpu controllers" : "memory controller";
  auto offered = fs::read_file(root + "/cgroup.controllers", 4096);
  if (offered.ok()) {
    std::string enable;
    for (const auto& c : controllers) {
      if (!has_word(*offered, c)) {
        layout.why_not_ = "the cgroup hierarchy at " + root + " offers no " + wanted;
        return layout;
      }
      enable += (enable.empty() ? "+" : " +") + c;
    }
    // Machine groups sit under ROOT/slipway, whose own subtree hands the
    // controllers down; ROOT must hand them to it first.
    // systemd may take a controller back from ROOT's subtree (when no unit of
    // its own needs it) between the two writes: then once more.
    Status enabled = ok_status();
    for (int attempt = 0; attempt < 2; ++attempt) {
      enabled = fs::write_kernel_file(root + "/cgroup.subtree_control", enable);
      if (enabled.ok()) enabled = fs::make_dirs(root + "/" + kGroup, 0755);
      if (enabled.ok()) {
        enabled = fs::write_kernel_file(root + "/" + kGroup + "/cgroup.subtree_control", enable);
      }
      if (enabled.ok()) break;
    }
    if (!enabled.ok()) {
      layout.why_not_ = enabled.error().message();
      return layout;
    }
    layout.kind_ = Kind::kUnified;
    return layout;
  }
  const bool legacy = fs::exists(root + "/memory/memory.limit_in_bytes") &&
                      (!cpu || fs::exists(root + "/cpu/cpu.cfs_quota_us"));
  if (!legacy) {
    layout.why_not_ = "no cgroup " + wanted + (cpu ? " are" : " is") + " mounted under " + root;
    return layout;
  }
  for (const auto& c : controllers) {
    Status made = fs::make_dirs(root + "/" + c + "/" + kGroup, 0755);
    if (!made.ok()) {
      layout.why_not_ = made.error().message();
      return layout;
    }
  }
  layout.kind_ = Kind::kLegacy;
  return layout;
}

std::vector<std::string> CgroupLayout::parents(bool every) const {
  switch (kind_) {
    case Kind::kUnified:
      return {root_ + "/" + kGroup};
    case Kind::kLegacy:
      if (cpu_ || every) return {root_ + "/memory/" + kGroup, root_ + "/cpu/" + kGroup};
      return {root_ + "/memory/" + kGroup};
    case Kind::kNone:
      break;
  }
  return {};
}

Result<std::vector<std::string>> CgroupLayout::create(const std::string& name,
                                                      const ResourceLimits& limits) const {
  if (!available()) return Error(Code::kFailedPrecondition, why_not_);
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    return Error(Code::kInvalidArgument, "bad control group name \"" + name + "\"");
  }
  const std::string memory = std::to_string(limits.memory_mb * 1024 * 1024);
  const std::string quota = std::to_string(limits.cpus * kCpuPeriodUs);
  std::vector<std::string> dirs;
  for (const auto& parent : parents()) dirs.push_back(parent + "/" + name);
  auto limit = [&]() -> Status {
    for (const auto& dir : dirs) {
      SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(dir, 0755));
      // A group left by a machine of the same name (a crash) may be reused,
      // but not with processes still in it.
      auto procs = fs::read_file(dir + "/cgroup.procs", 1 << 16);
      if (procs.ok() && !procs->empty()) {
        return Error(Code::kFailedPrecondition,
                     "control group " + dir + " still holds processes of an earlier machine");
      }
    }
    if (kind_ == Kind::kUnified) {
      const std::string& dir = dirs[0];
      SLIPWAY_RETURN_IF_ERROR(fs::write_kernel_file(dir + "/memory.max", memory));
      SLIPWAY_RETURN_IF_ERROR(write_if_present(dir + "/memory.swap.max", "0"));
      if (!cpu_) return ok_status();
      return fs::write_kernel_file(dir + "/cpu.max", quota + " " + std::to_string(kCpuPeriodUs));
    }
    // The memory and swap limit may never be below the memory limit: lifted
    // first (a reused group may have a lower one), then set to it.
    SLIPWAY_RETURN_IF_ERROR(write_if_present(dirs[0] + "/memory.memsw.limit_in_bytes", "-1"));
    SLIPWAY_RETURN_IF_ERROR(fs::write_kernel_file(dirs[0] + "/memory.limit_in_bytes", memory));
    SLIPWAY_RETURN_IF_ERROR(write_if_present(dirs[0] + "/memory.memsw.limit_in_bytes", memory));
    if (!cpu_) return ok_status();
    SLIPWAY_RETURN_IF_ERROR(
        fs::write_kernel_file(dirs[1] + "/cpu.cfs_period_us", std::to_string(kCpuPeriodUs)));
    return fs::write_kernel_file(dirs[1] + "/cpu.cfs_quota_us", quota);
  };
  if (Status s = limit(); !s.ok()) {
    (void)remove(name);
    return s.error().wrap("cannot limit the machine's resources");
  }
  return dirs;
}

Status CgroupLayout::remove(const std::string& name) const {
  Status result = ok_status();
  // Every hierarchy: a restart may have turned cpu-quota off since.
  for (const auto& parent : parents(true)) {
    Status s = remove_group(parent + "/" + name);
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

std::vector<std::string> CgroupLayout::list(const std::string& prefix) const {
  std::set<std::string> names;
  for (const auto& parent : parents(true)) {
    auto entries = fs::list_dir(parent);
    if (!entries.ok()) continue;
    for (const auto& name : *entries) {
      // The groups' own files never start with a cloud's prefix ("slw-").
      if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
        names.insert(name);
      }
    }
  }
  return {names.begin(), names.end()};
}

}  // namespace slipway::connectors::local
