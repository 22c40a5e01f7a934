#include "agent/agent.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "agent/script_env.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/version.h"

namespace slipway::agent {

Result<Contextualization> find_contextualization(const std::string& path,
                                                 const std::string& user_data_path) {
  if (!path.empty()) {
    SLIPWAY_ASSIGN_OR_RETURN(std::string text, fs::read_file(path, 64 << 10));
    auto parsed = Contextualization::parse(text);
    if (!parsed.ok()) return parsed.error().wrap(path);
    return parsed;
  }
  if (!user_data_path.empty()) {
    SLIPWAY_ASSIGN_OR_RETURN(std::string text, fs::read_file(user_data_path, 1 << 20));
    auto parsed = Contextualization::parse_user_data(text);
    if (!parsed.ok()) return parsed.error().wrap(user_data_path);
    return parsed;
  }
  if (fs::exists(kContextFile)) return find_contextualization(kContextFile, "");
  if (fs::exists(kSeedUserData)) return find_contextualization("", kSeedUserData);
  auto cmdline = fs::read_file("/proc/cmdline", 64 << 10);
  if (cmdline.ok()) {
    auto parsed = Contextualization::parse_kernel_args(*cmdline);
    if (parsed.ok() || parsed.error().code() != Code::kNotFound) return parsed;
  }
  return Error(Code::kNotFound,
               std::string("no contextualization: not in ") + kContextFile +
                   ", not in a NoCloud seed at " + kSeedUserData +
                   ", not on the kernel command line (give one with --context FILE)");
}

Agent::Agent(AgentOptions options, Contextualization context)
    : options_(std::move(options)),
      context_(std::move(context)),
      outbox_(loop_, [this](const proto::AgentMessage& m) { return send_now(m); }),
      requests_(
          loop_, [this](const proto::AgentMessage& m) { return send_now(m); },
          [this] { return link_ && link_->ready(); }),
      recipe_(
          loop_, reaper_, lingering_, outbox_,
          [this](const proto::AgentMessage& m) { return send_now(m); },
          [this] { return requests_.next_id(); },
          RecipeOptions{options_.state_dir, current_environment(), context_.deployment,
                        context_.instance}),
      exec_(loop_, reaper_, lingering_,
            [this](proto::AgentMessage m) { outbox_.post(std::move(m)); }) {}

Agent::~Agent() {
  local_server_.close();
  link_.reset();
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

bool Agent::send_now(const proto::AgentMessage& message) {
  return link_ && link_->send(message);
}

sigset_t agent_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGPIPE);
  return set;
}

void block_agent_signals() {
  sigset_t set = agent_signals();
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

Status Agent::watch_signals() {
  sigset_t set = agent_signals();
  signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0)
    return Error(Code::kInternal, std::string("signalfd: ") + std::strerror(errno));
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
      // Our own children's statuses go to their runners; as PID 1 of a
      // machine we also inherit orphans, whose statuses are dropped.
      reaper_.reap();
    }
  }
}

void Agent::install_links() {
  auto self = own_executable();
  if (!self.ok()) {
    LOG_WARN("no ss-* commands: %s", self.error().message().c_str());
    return;
  }
  Status made = install_command_links(options_.state_dir + "/bin", *self, false);
  if (!made.ok()) LOG_WARN("no ss-* commands: %s", made.error().message().c_str());
  if (::getpid() == 1) {
    made = install_command_links("/usr/local/bin", *self, true);
    if (!made.ok())
      LOG_WARN("no ss-* commands in /usr/local/bin: %s", made.error().message().c_str());
  }
}

Status Agent::run() {
  SLIPWAY_RETURN_IF_ERROR(watch_signals());
  // Daemons the scripts start stay our descendants (as they would under PID
  // 1 of a machine), so whoever stops this agent can find and stop them too.
  if (::getpid() != 1) ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  Status opened = recipe_.open();
  if (!opened.ok()) return opened.error().wrap("state directory " + options_.state_dir);
  install_links();
  Status listening = local_server_.listen(options_.state_dir + "/agent.sock");
  if (!listening.ok()) {
    LOG_ERROR("the ss-* commands cannot reach this agent: %s", listening.error().message().c_str());
  }
  ControllerLink::Callbacks callbacks;
  callbacks.make_hello = [this] {
    proto::Hello hello;
    hello.agent_version = SLIPWAY_VERSION;
    hello.instance = context_.instance;
    hello.completed = recipe_.completed();
    return hello;
  };
  callbacks.on_welcome = [this](const proto::Welcome& w) { on_welcome(w); };
  callbacks.on_message = [this](proto::ControllerMessage&& m) { on_message(std::move(m)); };
  callbacks.on_lost = [this] { requests_.on_lost(); };
  link_ = std::make_unique<ControllerLink>(loop_, context_, std::move(callbacks), options_.timing);
  LOG_INFO("slipway-agent %s for %s%s%s, controller %s", SLIPWAY_VERSION,
           context_.deployment.c_str(), context_.deployment.empty() ? "" : "/",
           context_.instance.c_str(), context_.endpoint.c_str());
  link_->start();
  loop_.run();
  link_->stop();
  return ok_status();
}

void Agent::on_welcome(const proto::Welcome& welcome) {
  // What was said while the link was down goes first, in order.
  outbox_.flush();
  on_abort_flag(welcome.aborted, welcome.abort_reason, true);
  requests_.on_welcome();
  recipe_.on_welcome(welcome);
}

void Agent::on_abort_flag(bool aborted, const std::string& reason, bool always) {
  // Every request waiting when the flag rises is answered "aborted" (the
  // controller answers them too; the first answer wins). After a welcome we
  // cannot know what was missed, so it counts as rising.
  if (aborted && (always || !aborted_)) requests_.abort_all(reason);
  aborted_ = aborted;
}

void Agent::on_message(proto::ControllerMessage&& message) {
  if (auto* reply = std::get_if<proto::Reply>(&message)) {
    if (!requests_.on_reply(*reply) && !recipe_.on_reply(*reply)) {
      LOG_DEBUG("dropped a reply to request %llu, answered already",
                static_cast<unsigned long long>(reply->id));
    }
  } else if (auto* state = std::get_if<proto::StateChanged>(&message)) {
    on_abort_flag(state->aborted, state->abort_reason, false);
    recipe_.on_state(*state);
  } else if (auto* exec = std::get_if<proto::Exec>(&message)) {
    exec_.run(*exec, recipe_.environment());
  } else {
    LOG_DEBUG("ignored %s from the controller", std::string(proto::type_name(message)).c_str());
  }
}

}  // namespace slipway::agent
