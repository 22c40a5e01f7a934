// What every ss-* command shares: its command line, its errors, and the
// round trip to the agent's local socket.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "agent/ss/ss_command.h"
#include "common/frame.h"

namespace slipway::agent::ss {

const std::string* Args::option(const std::string& name) const {
  const std::string* found = nullptr;
  for (const auto& [key, value] : options) {
    if (key == name) found = &value;
  }
  return found;
}

Result<Args> parse_args(int argc, char** argv, const std::vector<std::string>& with_value,
                        const std::vector<std::string>& flags) {
  auto known = [](const std::vector<std::string>& list, const std::string& name) {
    for (const auto& entry : list) {
      if (entry == name) return true;
    }
    return false;
  };
  Args args;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg == "-" || arg.empty() || arg[0] != '-') {
      args.words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      args.help = true;
      continue;
    }
    std::string name = arg;
    std::string value;
    bool inline_value = false;
    size_t equals = arg.find('=');
    if (arg.compare(0, 2, "--") == 0 && equals != std::string::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
      inline_value = true;
    }
    if (known(with_value, name)) {
      if (!inline_value) {
        if (i + 1 >= argc) return Error(Code::kUsage, name + " needs a value");
        value = argv[++i];
      }
      args.options.emplace_back(name, value);
    } else if (known(flags, name) && !inline_value) {
      args.options.emplace_back(name, "");
    } else if (known(flags, name)) {
      return Error(Code::kUsage, name + " takes no value");
    } else if (arg.compare(0, 2, "--") == 0) {
      return Error(Code::kUsage, "unknown option " + name);
    } else {
      args.words.push_back(arg);  // "-5" is a value, not an option
    }
  }
  return args;
}

Result<int64_t> parse_seconds(const std::string& option, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  double seconds = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0' || errno != 0 || !std::isfinite(seconds) ||
      seconds < 0 || seconds > 100.0 * 365 * 24 * 3600) {
    return Error(Code::kUsage, option + " needs a number of seconds, not \"" + text + "\"");
  }
  auto ms = static_cast<int64_t>(std::llround(seconds * 1000));
  return seconds > 0 && ms == 0 ? 1 : ms;
}

int usage_error(const Command& command, const std::string& why) {
  std::fprintf(stderr, "%s: %s (usage: %s)\n", command.name, why.c_str(), command.usage);
  return 2;
}

int print_usage(const Command& command) {
  std::printf("usage: %s\n", command.usage);
  return 0;
}

void print_line(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

int fail(const Command& command, Code code, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", command.name, message.c_str());
  return ss_exit_code(code);
}

Result<local::Answer> call(const local::Request& request) {
  const char* env = std::getenv("SLIPWAY_AGENT_SOCKET");
  std::string path = env != nullptr && *env != '\0' ? env : kDefaultSocket;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    return Error(Code::kUnavailable, "the agent socket path " + path + " is too long");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Error(Code::kUnavailable, std::string("cannot make a socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    ::close(fd);
    Code code = error == EACCES || error == EPERM ? Code::kPermissionDenied : Code::kUnavailable;
    return Error(code, "cannot reach the agent at " + path + ": " + std::strerror(error));
  }
  Status sent = frame::write_frame(fd, local::encode_request(request));
  Result<std::string> payload =
      sent.ok() ? frame::read_frame(fd, proto::kMaxMessageSize) : Result<std::string>(sent.error());
  ::close(fd);
  if (!payload.ok()) {
    return Error(Code::kUnavailable,
                 "the agent at " + path + " did not answer (" + payload.error().message() + ")");
  }
  auto answer = local::decode_answer(*payload);
  if (!answer.ok()) return Error(Code::kUnavailable, answer.error().message());
  return answer;
}

int run(const Command& command, const local::Request& request, const std::string& subject,
        local::Answer* answer) {
  auto result = call(request);
  if (!result.ok()) return fail(command, result.error().code(), result.error().message());
  Code code = code_from_name(result->code);
  if (code != Code::kOk) {
    std::string message = result->message;
    if (message.empty()) {
      switch (code) {
        case Code::kNotSet:
          message = subject + " is not set";
          break;
        case Code::kTimeout:
          message = "timed out waiting for " + subject;
          break;
        case Code::kAborted:
          message = "the deployment was aborted";
          break;
        case Code::kUnavailable:
          message = "the controller is unreachable";
          break;
        case Code::kPermissionDenied:
          message = "not allowed: " + subject;
          break;
        default:
          message = subject + ": " + result->code;
          break;
      }
    }
    return fail(command, code, message);
  }
  if (answer != nullptr) *answer = std::move(*result);
  return 0;
}

}  // namespace slipway::agent::ss
