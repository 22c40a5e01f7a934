#include "controller/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "common/log.h"
#include "common/version.h"
#include "controller/controller.h"

namespace slipway::controller {

int slipwayd_main(int argc, char** argv) {
  log::set_tag("slipwayd");
  CLI::App app{"slipwayd: the Slipway controller", "slipwayd"};
  app.set_version_flag("--version", "slipwayd " SLIPWAY_VERSION);
  ControllerOptions options;
  std::string data_dir, control_socket, agent_endpoint, log_level;
  app.add_option("--config", options.config_path, "YAML configuration file")
      ->check(CLI::ExistingFile);
  app.add_option("--data-dir", data_dir, "where the store and keys live");
  app.add_option("--control-socket", control_socket, "the Unix socket users connect to");
  app.add_option("--agent-endpoint", agent_endpoint, "where agents connect, tcp://ADDR:PORT");
  app.add_option("--log-level", log_level, "debug, info, warn or error");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!data_dir.empty()) options.data_dir = data_dir;
  if (!control_socket.empty()) options.control_socket = control_socket;
  if (!agent_endpoint.empty()) {
    if (agent_endpoint.rfind("tcp://", 0) != 0) {
      std::fprintf(stderr, "slipwayd: --agent-endpoint must be tcp://ADDR:PORT\n");
      return 2;
    }
    options.agent_endpoint = agent_endpoint;
  }
  if (!log_level.empty()) {
    auto level = log::parse_level(log_level);
    if (!level.ok()) {
      std::fprintf(stderr, "slipwayd: --log-level: %s\n", level.error().message().c_str());
      return 2;
    }
    options.log_level = *level;
  }
  try {
    Controller controller(options);
    Status status = controller.run();
    if (!status.ok()) {
      std::fprintf(stderr, "slipwayd: %s\n", status.error().message().c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slipwayd: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace slipway::controller
