// slipwayd as an object: owns the event loop, the store, the agent endpoint
// and the control socket, and wires them together. main() only parses the
// command line and calls run().
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "connectors/connector.h"
#include "controller/agents/agent_hub.h"
#include "controller/catalog/catalog.h"
#include "controller/control/agent_handlers.h"
#include "controller/control/clouds.h"
#include "controller/control/control_server.h"
#include "controller/control/deployment_handlers.h"
#include "controller/control/image_handlers.h"
#include "controller/control/module_handlers.h"
#include "controller/control/status_handlers.h"
#include "controller/control/watch_handlers.h"
#include "controller/deployments/deployment_engine.h"
#include "controller/deployments/event_log.h"
#include "controller/store/store.h"

namespace slipway::controller {

// What the command line may say over the configuration file.
struct ControllerOptions {
  std::string config_path;  // "" for none
  std::optional<std::string> data_dir;
  std::optional<std::string> control_socket;
  std::optional<std::string> agent_endpoint;
  std::optional<log::Level> log_level;
};

class ConnectorProvisioner;

class Controller final {
 public:
  explicit Controller(ControllerOptions options);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts everything and serves until SIGTERM or SIGINT. Fails with one
  // sentence when it cannot start (bad configuration, socket in use, ...).
  Status run();

 private:
  Status load_configuration();
  Status start();
  void shut_down();
  void schedule_tick();
  void tick();
  void wait_for_signal();
  void reload_configuration();

  Status start_deployments();
  Status install_builtin_modules();
  std::string find_agent_binary() const;
  // Where the reference images built under images/ are: the configured
  // images-dir, else the first of DATA_DIR/images, the build tree's images/,
  // and the installed SLIPWAY_DATA_DIR/images that exists.
  std::string find_images_dir() const;
  connectors::ConnectorEnvironment connector_environment() const;
  void listen_locally();
  std::string agent_socket_dir() const;

  // Builds the handlers of the control operations and registers them.
  void register_control_handlers();
  AgentHubSettings hub_settings() const;

  ControllerOptions options_;
  Config config_;
  SystemClock clock_;
  int64_t started_steady_ = 0;
  int lock_fd_ = -1;
  crypto::KeyPair keys_;

  boost::asio::io_context io_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<EventLog> events_;
  std::unique_ptr<AgentHub> agents_;
  std::unique_ptr<ControlServer> control_;
  connectors::ConnectorRegistry connector_types_;
  std::unique_ptr<ConnectorProvisioner> provisioner_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<ImageBuilds> builds_;
  std::unique_ptr<DeploymentEngine> engine_;
  // The control operations, by area: declared after what they use, so they
  // are destroyed before it.
  std::unique_ptr<Clouds> clouds_;
  std::unique_ptr<StatusHandlers> status_handlers_;
  std::unique_ptr<AgentHandlers> agent_handlers_;
  std::unique_ptr<ModuleHandlers> module_handlers_;
  std::unique_ptr<DeploymentHandlers> deployment_handlers_;
  std::unique_ptr<WatchHandlers> watch_handlers_;
  std::unique_ptr<ImageHandlers> image_handlers_;
  boost::asio::signal_set signals_{io_};
  boost::asio::steady_timer tick_timer_{io_};
};

}  // namespace slipway::controller
