#include "agent/agent.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "common/fs.h"
#include "common/log.h"
#include "common/version.h"

namespace slipway::agent {

Result<Contextualization> find_contextualization(const std::string& path) {
  if (!path.empty()) {
    SLIPWAY_ASSIGN_OR_RETURN(std::string text, fs::read_file(path, 64 << 10));
    auto parsed = Contextualization::parse(text);
    if (!parsed.ok()) return parsed.error().wrap(path);
    return parsed;
  }
  const std::string standard = "/etc/slipway/context";
  if (fs::exists(standard)) return find_contextualization(standard);
  auto cmdline = fs::read_file("/proc/cmdline", 64 << 10);
  if (cmdline.ok()) {
    auto parsed = Contextualization::parse_kernel_args(*cmdline);
    if (parsed.ok() || parsed.error().code() != Code::kNotFound) return parsed;
  }
  return Error(Code::kNotFound,
               "no contextualization: not in /etc/slipway/context, not on the kernel command line "
               "(give one with --context FILE)");
}

Agent::Agent(AgentOptions options, Contextualization context)
    : options_(std::move(options)), context_(std::move(context)) {}

Agent::~Agent() {
  link_.reset();
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

Status Agent::watch_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGPIPE);
  signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return Error(Code::kInternal, std::string("signalfd: ") + std::strerror(errno));
  loop_.watch_fd(signal_fd_, POLLIN, [this](short) { on_signal(); });
  return ok_status();
}

void Agent::on_signal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
      LOG_INFO("stopping on %s", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
      loop_.stop();
    } else if (info.ssi_signo == SIGCHLD) {
      // As PID 1 of a machine we inherit orphans; reap whatever has exited.
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
    }
  }
}

Status Agent::run() {
  SLIPWAY_RETURN_IF_ERROR(watch_signals());
  ControllerLink::Callbacks callbacks;
  callbacks.make_hello = [this] {
    proto::Hello hello;
    hello.agent_version = SLIPWAY_VERSION;
    hello.instance = context_.instance;
    return hello;
  };
  callbacks.on_welcome = [this](const proto::Welcome& w) { on_welcome(w); };
  callbacks.on_message = [this](proto::ControllerMessage&& m) { on_message(std::move(m)); };
  callbacks.on_lost = [] {};
  link_ = std::make_unique<ControllerLink>(loop_, zmq_, context_, std::move(callbacks), options_.timing);
  LOG_INFO("slipway-agent %s for %s%s%s, controller %s", SLIPWAY_VERSION, context_.deployment.c_str(),
           context_.deployment.empty() ? "" : "/", context_.instance.c_str(),
           context_.endpoint.c_str());
  link_->start();
  loop_.run();
  link_->stop();
  return ok_status();
}

void Agent::on_welcome(const proto::Welcome&) {}

void Agent::on_message(proto::ControllerMessage&& message) {
  LOG_DEBUG("controller sent %s", std::string(proto::type_name(message)).c_str());
}

}  // namespace slipway::agent
