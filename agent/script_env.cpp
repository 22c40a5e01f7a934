#include "agent/script_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs.h"

extern char** environ;

namespace slipway::agent {

const char* const kCommandNames[7] = {"ss-get",   "ss-set",    "ss-get-all", "ss-display",
                                      "ss-abort", "ss-random", "ss-barrier"};

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

void put(std::vector<std::string>& env, const std::string& name, const std::string& value) {
  std::string prefix = name + "=";
  for (auto& entry : env) {
    if (entry.compare(0, prefix.size(), prefix) == 0) {
      entry = prefix + value;
      return;
    }
  }
  env.push_back(prefix + value);
}

const std::string* find(const std::vector<std::string>& env, const std::string& name) {
  std::string prefix = name + "=";
  for (const auto& entry : env) {
    if (entry.compare(0, prefix.size(), prefix) == 0) return &entry;
  }
  return nullptr;
}

}  // namespace

std::string node_of(const std::string& instance) {
  size_t dot = instance.rfind('.');
  if (dot == std::string::npos || dot + 1 == instance.size()) return instance;
  for (size_t i = dot + 1; i < instance.size(); ++i) {
    if (instance[i] < '0' || instance[i] > '9') return instance;
  }
  return instance.substr(0, dot);
}

std::vector<std::string> script_environment(const ScriptIdentity& identity,
                                            const std::vector<std::string>& inherited) {
  std::vector<std::string> env;
  for (const auto& entry : inherited) {
    if (entry.compare(0, 8, "SLIPWAY_") == 0 || entry.find('=') == std::string::npos) continue;
    env.push_back(entry);
  }
  for (const auto& [name, value] : identity.plan_env) {
    if (!name.empty() && name.find('=') == std::string::npos) put(env, name, value);
  }
  put(env, "SLIPWAY_DEPLOYMENT", identity.deployment);
  put(env, "SLIPWAY_NODE", node_of(identity.instance));
  put(env, "SLIPWAY_NODE_INSTANCE", identity.instance);
  put(env, "SLIPWAY_REPORT_DIR", identity.state_dir + "/reports");
  put(env, "SLIPWAY_AGENT_SOCKET", identity.state_dir + "/agent.sock");
  const std::string* path = find(env, "PATH");
  std::string rest = path != nullptr ? path->substr(5) : kDefaultPath;
  put(env, "PATH", identity.state_dir + "/bin" + (rest.empty() ? "" : ":" + rest));
  if (find(env, "HOME") == nullptr) put(env, "HOME", "/root");
  return env;
}

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry)
    env.emplace_back(*entry);
  return env;
}

Status install_command_links(const std::string& dir, const std::string& target,
                             bool only_if_absent) {
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(dir, 0755));
  for (const char* name : kCommandNames) {
    std::string link = dir + "/" + name;
    struct stat st {};
    if (::lstat(link.c_str(), &st) == 0) {
      if (only_if_absent || !S_ISLNK(st.st_mode)) continue;
      char current[4096];
      ssize_t n = ::readlink(link.c_str(), current, sizeof current - 1);
      if (n >= 0 && std::string(current, static_cast<size_t>(n)) == target) continue;
      ::unlink(link.c_str());
    }
    if (::symlink(target.c_str(), link.c_str()) != 0 && errno != EEXIST) {
      return Error(Code::kIo, "cannot make " + link + ": " + std::strerror(errno));
    }
  }
  return ok_status();
}

Result<std::string> own_executable() {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0)
    return Error(Code::kIo, std::string("cannot read /proc/self/exe: ") + std::strerror(errno));
  return std::string(path, static_cast<size_t>(n));
}

}  // namespace slipway::agent
