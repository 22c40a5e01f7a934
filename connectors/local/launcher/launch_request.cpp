#include "connectors/local/launcher/launch_request.h"

#include <cstring>

namespace slipway::connectors::local::launcher {
namespace {

Error usage(const std::string& why) {
  return Error(Code::kUsage,
               "slipway-local-launch: " + why +
                   " (it is run by slipwayd; see connectors/local/launch_protocol.h)");
}

bool absolute(const std::string& path) {
  return !path.empty() && path[0] == '/';
}

}  // namespace

Result<LaunchRequest> parse_launch_request(int argc, char** argv) {
  LaunchRequest r;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) return usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--dir") {
      r.machine_dir = value;
    } else if (flag == "--lower") {
      r.lower = value;
    } else if (flag == "--layer") {
      if (!absolute(value)) return usage("--layer needs an absolute path");
      if (r.layers.size() >= 32) return usage("at most 32 --layer");
      r.layers.push_back(value);
    } else if (flag == "--netns") {
      r.netns = value;
    } else if (flag == "--hostname") {
      r.hostname = value;
    } else if (flag == "--address") {
      r.address = value;
    } else if (flag == "--gateway") {
      r.gateway = value;
    } else if (flag == "--hide") {
      if (!absolute(value)) return usage("--hide needs an absolute path");
      r.hide.push_back(value);
    } else if (flag == "--cgroup") {
      if (!absolute(value)) return usage("--cgroup needs an absolute path");
      r.cgroups.push_back(value);
    } else if (flag == "--agent-socket-dir") {
      if (!absolute(value)) return usage("--agent-socket-dir needs an absolute path");
      r.agent_socket_dir = value;
    } else {
      return usage("unknown option " + flag);
    }
  }
  for (; i < argc; ++i) r.command.emplace_back(argv[i]);
  if (!absolute(r.machine_dir) || !absolute(r.lower) || !absolute(r.netns)) {
    return usage("--dir, --lower and --netns need absolute paths");
  }
  if (r.hostname.empty() || r.hostname.size() > 64) return usage("--hostname needs a host name");
  if (r.address.empty() != r.gateway.empty()) return usage("--address and --gateway go together");
  if (r.command.empty() || !absolute(r.command[0])) {
    return usage("the command after -- must start with an absolute path");
  }
  return r;
}

}  // namespace slipway::connectors::local::launcher
