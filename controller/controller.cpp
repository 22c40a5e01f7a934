#include "controller/controller.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cstdlib>

#include "common/fs.h"
#include "common/log.h"
#include "common/version.h"
#include "controller/deployments/provisioner.h"

namespace slipway::controller {

namespace asio = boost::asio;

namespace {

constexpr auto kTickInterval = std::chrono::milliseconds(100);

// The control handlers' view of the clouds.
class ProvisionerClouds final : public Clouds {
 public:
  explicit ProvisionerClouds(ConnectorProvisioner& provisioner) : provisioner_(provisioner) {}
  CloudState state(const std::string& cloud) override { return provisioner_.cloud_state(cloud); }
  Status check_snapshot(const std::string& cloud, const Value& reference) override {
    return provisioner_.check_snapshot(cloud, reference);
  }
  Result<std::string> console_log(const std::string& cloud,
                                  const std::string& machine_id) override {
    return provisioner_.console_log(cloud, machine_id);
  }

 private:
  ConnectorProvisioner& provisioner_;
};

}  // namespace

Controller::Controller(ControllerOptions options) : options_(std::move(options)) {}

Controller::~Controller() {
  shut_down();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status Controller::load_configuration() {
  if (options_.config_path.empty()) {
    config_ = default_config();
  } else {
    SLIPWAY_ASSIGN_OR_RETURN(config_, load_config(options_.config_path));
  }
  if (options_.data_dir) config_.data_dir = *options_.data_dir;
  if (options_.control_socket) config_.control_socket = *options_.control_socket;
  if (options_.agent_endpoint) config_.agent_endpoint = *options_.agent_endpoint;
  if (options_.log_level) config_.log_level = *options_.log_level;
  log::set_level(config_.log_level);
  return ok_status();
}

Status Controller::start() {
  SLIPWAY_RETURN_IF_ERROR(load_configuration());
  started_steady_ = clock_.steady_ms();
  crypto::init();

  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(config_.data_dir, 0700));
  std::string lock_path = config_.data_dir + "/slipwayd.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Error(Code::kAlreadyExists,
                 "another slipwayd is already using the data directory " + config_.data_dir);
  }

  bool created = false;
  SLIPWAY_ASSIGN_OR_RETURN(
      keys_, crypto::load_or_create_keypair(config_.data_dir + "/controller.key", &created));
  SLIPWAY_RETURN_IF_ERROR(
      fs::write_file_atomic(config_.data_dir + "/controller.pub", keys_.public_key + "\n", 0644));
  if (created) LOG_INFO("made the controller's CURVE key pair in %s", config_.data_dir.c_str());

  SLIPWAY_ASSIGN_OR_RETURN(store_, Store::open(config_.data_dir + "/slipway.db"));
  events_ = std::make_unique<EventLog>(*store_, clock_);
  agents_ = std::make_unique<AgentHub>(io_, clock_, *store_, *events_, hub_settings());
  SLIPWAY_RETURN_IF_ERROR(agents_->start(config_.agent_endpoint, keys_));
  listen_locally();

  SLIPWAY_RETURN_IF_ERROR(start_deployments());

  control_ = std::make_unique<ControlServer>(io_);
  if (std::optional<gid_t> admin = lookup_group(config_.admin_group))
    control_->set_admin_gid(*admin);
  register_control_handlers();
  SLIPWAY_RETURN_IF_ERROR(control_->start(config_.control_socket, config_.control_group));

  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  wait_for_signal();

  events_->record("", "controller.started",
                  "slipwayd " SLIPWAY_VERSION " listening for agents on " +
                      agents_->endpoint().bound_endpoint() + " and for users on " +
                      config_.control_socket);
  schedule_tick();
  return ok_status();
}

Status Controller::run() {
  Status started = start();
  if (!started.ok()) {
    shut_down();
    return started;
  }
  io_.run();
  shut_down();
  return ok_status();
}

void Controller::shut_down() {
  if (control_) control_->stop();
  if (provisioner_) provisioner_->stop();
  if (agents_) agents_->stop();
  tick_timer_.cancel();
  boost::system::error_code ignored;
  signals_.cancel(ignored);
}

void Controller::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      reload_configuration();
      wait_for_signal();
      return;
    }
    LOG_INFO("stopping on %s", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    io_.stop();
  });
}

void Controller::reload_configuration() {
  Config old = config_;
  Status loaded = load_configuration();
  if (!loaded.ok()) {
    LOG_ERROR("SIGHUP: keeping the running configuration: %s", loaded.error().message().c_str());
    config_ = old;
    log::set_level(config_.log_level);
    return;
  }
  agents_->set_settings(hub_settings());
  if (provisioner_) {
    provisioner_->add_clouds(config_, connector_environment(), engine_->machines_in_use());
  }
  if (config_.agent_endpoint != old.agent_endpoint ||
      config_.control_socket != old.control_socket || config_.data_dir != old.data_dir) {
    LOG_WARN("SIGHUP: endpoint, control socket and data directory changes take effect at restart");
    config_.agent_endpoint = old.agent_endpoint;
    config_.control_socket = old.control_socket;
    config_.data_dir = old.data_dir;
  }
  events_->record(
      "", "controller.reloaded",
      "configuration reloaded from " + (config_.source.empty() ? "defaults" : config_.source));
}

void Controller::register_control_handlers() {
  clouds_ = std::make_unique<ProvisionerClouds>(*provisioner_);
  status_handlers_ =
      std::make_unique<StatusHandlers>(clock_, config_, *agents_, *engine_, *clouds_,
                                       ControllerFacts{started_steady_, keys_.public_key},
                                       builds_.get());
  agent_handlers_ = std::make_unique<AgentHandlers>(*agents_, *events_, clock_, keys_.public_key);
  module_handlers_ = std::make_unique<ModuleHandlers>(*catalog_, *events_, builds_.get());
  deployment_handlers_ = std::make_unique<DeploymentHandlers>(
      *engine_, *catalog_, *clouds_, *events_, clock_, config_, builds_.get());
  image_handlers_ = std::make_unique<ImageHandlers>(*engine_, *catalog_, *builds_, *clouds_,
                                                    *events_, config_);
  watch_handlers_ = std::make_unique<WatchHandlers>(*engine_, *events_, clock_, io_);
  status_handlers_->register_with(*control_);
  agent_handlers_->register_with(*control_);
  module_handlers_->register_with(*control_);
  image_handlers_->register_with(*control_);
  deployment_handlers_->register_with(*control_);
  watch_handlers_->register_with(*control_);
}

AgentHubSettings Controller::hub_settings() const {
  return AgentHubSettings{config_.heartbeat_interval, config_.heartbeat_timeout};
}

void Controller::schedule_tick() {
  tick_timer_.expires_after(kTickInterval);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    tick();
    schedule_tick();
  });
}

void Controller::tick() {
  agents_->tick();
  if (engine_) engine_->tick();
  if (watch_handlers_) watch_handlers_->tick();
}

std::string Controller::find_agent_binary() const {
  if (!config_.agent_binary.empty()) return config_.agent_binary;
  if (const char* from_env = std::getenv("SLIPWAY_AGENT_BINARY")) return from_env;
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    std::string dir = fs::dirname(self);
    // Installed side by side, or the build tree (build/controller, build/agent).
    for (const std::string& candidate : {dir + "/slipway-agent", dir + "/../agent/slipway-agent"}) {
      if (fs::exists(candidate)) return candidate;
    }
  }
  for (const char* candidate : {"/usr/sbin/slipway-agent", SLIPWAY_LIBEXEC_DIR "/slipway-agent"}) {
    if (fs::exists(candidate)) return candidate;
  }
  return "/usr/sbin/slipway-agent";
}

std::string Controller::find_images_dir() const {
  if (!config_.images_dir.empty()) return config_.images_dir;
  std::vector<std::string> candidates = {config_.data_dir + "/images"};
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    // The build tree: build/controller/slipwayd, images in build/images.
    candidates.push_back(fs::dirname(fs::dirname(self)) + "/images");
  }
  candidates.push_back(SLIPWAY_DATA_DIR "/images");
  for (const auto& candidate : candidates) {
    char resolved[PATH_MAX];
    if (::realpath(candidate.c_str(), resolved) != nullptr &&
        fs::exists(std::string(resolved) + "/."))
      return resolved;
  }
  return config_.data_dir + "/images";
}

std::string Controller::agent_socket_dir() const {
  return config_.data_dir + "/" + connectors::kAgentSocketDir;
}

// Machines on this kernel (the local and process clouds) reach the
// controller over a Unix socket in a directory of its own, which the local
// cloud binds into each machine: no TCP, bridge or firewall in between, and
// nothing a machine's scripts do to its network cuts its agent off. Without
// it they use the TCP endpoint like any other.
void Controller::listen_locally() {
  const std::string dir = agent_socket_dir();
  Status listening = fs::make_dirs(dir, 0700);
  if (listening.ok()) listening = agents_->listen_local(connectors::agent_socket_path(dir));
  if (!listening.ok()) {
    LOG_WARN("machines on this host will reach the controller over TCP: %s",
             listening.error().message().c_str());
  }
}

connectors::ConnectorEnvironment Controller::connector_environment() const {
  connectors::ConnectorEnvironment environment;
  environment.state_dir = config_.data_dir + "/clouds";
  environment.agent_path = find_agent_binary();
  environment.images_dir = find_images_dir();
  environment.agent_port = agents_->endpoint().port();
  if (!agents_->endpoint().local_endpoint().empty())
    environment.agent_socket_dir = agent_socket_dir();
  return environment;
}

Status Controller::start_deployments() {
  catalog_ = std::make_unique<Catalog>(*store_, clock_);
  SLIPWAY_RETURN_IF_ERROR(install_builtin_modules());

  connectors::register_builtin_connectors(connector_types_);
  provisioner_ = std::make_unique<ConnectorProvisioner>(io_, connector_types_, keys_.public_key);
  EngineSettings settings;
  settings.heartbeat_ms = config_.heartbeat_interval.count();
  settings.heartbeat_timeout_ms = config_.heartbeat_timeout.count();
  settings.provisioning_timeout_ms = config_.provisioning_timeout.count();
  // Built images live beside the data, not in the images directory of
  // reference images (which may be a read-only tree).
  builds_ = std::make_unique<ImageBuilds>(*store_, clock_, config_.data_dir + "/builds");
  engine_ = std::make_unique<DeploymentEngine>(*store_, clock_, *events_, *agents_, *provisioner_,
                                               *agents_, *builds_, settings);
  agents_->attach(*engine_);
  provisioner_->set_answers(
      [this](const std::string& d, const std::string& i, const Result<connectors::Machine>& m) {
        engine_->on_launched(d, i, m);
      },
      [this](const std::string& d, const std::string& i, const Status& s) {
        engine_->on_terminated(d, i, s);
      },
      [this](const std::string& d, const std::string& i, const Result<Snapshot>& s) {
        engine_->on_snapshotted(d, i, s);
      });
  SLIPWAY_RETURN_IF_ERROR(engine_->start());
  // Build files that live machines boot stay until those runs are over.
  builds_->set_in_use([this] {
    std::set<std::string> dirs;
    for (const auto& id : engine_->active_ids()) {
      const Deployment* d = engine_->active(id);
      if (d == nullptr || is_final(d->state)) continue;
      for (const auto& node : d->nodes) {
        auto named = builds_->dirs_named_in(node.reference);
        dirs.insert(named.begin(), named.end());
      }
    }
    return dirs;
  });
  engine_->subscribe([this](const EngineNotice& notice) {
    if (notice.kind != EngineNotice::Kind::kState) return;
    const Deployment* d = engine_->active(notice.deployment);
    if (d == nullptr || !is_final(d->state)) return;
    if (Status s = builds_->collect(); !s.ok()) {
      LOG_WARN("cannot remove unused build files: %s", s.error().message().c_str());
    }
  });
  // What a build left when the controller stopped under it: no half image.
  SLIPWAY_RETURN_IF_ERROR(builds_->recover(engine_->active_ids()));
  // Clouds are prepared (and rid of what a crash left) before the engine
  // orders any machine.
  provisioner_->add_clouds(config_, connector_environment(), engine_->machines_in_use());
  engine_->resume();
  return agents_->expect_reconnects();
}

}  // namespace slipway::controller
