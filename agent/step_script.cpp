#include "agent/step_script.h"

namespace slipway::agent {

std::string sanitize_step_id(const std::string& id) {
  std::string out;
  for (char c : id.substr(0, 200)) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    out += keep ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "step" + out;
  return out;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string package_script(const std::string& platform, const std::vector<std::string>& packages) {
  if (packages.empty()) return "# no packages to install\nexit 0\n";
  std::string names;
  for (const auto& name : packages) names += " " + shell_quote(name);
  std::string script = "set -e\n";
  if (platform == "debian" || platform == "ubuntu") {
    script += "export DEBIAN_FRONTEND=noninteractive\n";
    // No translated descriptions (nothing on a machine reads them), and no
    // fsync per unpacked file: a machine that dies mid-install is replaced,
    // not repaired, and an image is snapshotted after a sync.
    script += "apt-get update -qq -o Acquire::Languages=none\n";
    script += "apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io" +
              names + "\n";
  } else if (platform == "alpine") {
    script += "apk add --no-cache" + names + "\n";
  } else if (platform == "fedora") {
    script += "dnf install -y" + names + "\n";
  } else if (platform == "centos") {
    script += "yum install -y" + names + "\n";
  } else {
    std::string shown = platform.empty() ? "(none)" : platform;
    return "echo " + shell_quote("platform " + shown + " has no package manager") +
           " >&2\nexit 1\n";
  }
  return script;
}

Result<std::string> step_script_text(const proto::Step& step, const std::string& platform) {
  if (step.kind == "script") return step.body;
  if (step.kind == "packages") return package_script(platform, step.packages);
  return Error(Code::kInvalidArgument,
               "step " + step.id + " has unknown kind \"" + step.kind + "\"");
}

std::vector<std::string> script_command(const std::string& path, const std::string& text) {
  if (text.compare(0, 2, "#!") == 0) return {path};
  return {"/bin/sh", path};
}

}  // namespace slipway::agent
