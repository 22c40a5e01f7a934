#include "cli/app.h"

#include <cstdio>

#include "common/config.h"
#include "common/version.h"

namespace slipway::cli {

ControlClient& Session::client() {
  if (!client_) client_ = std::make_unique<ControlClient>(socket);
  return *client_;
}

Result<Value> Session::call(const Value& request,
                            const std::function<void(const Value&)>& on_event) {
  return client().call(request, on_event);
}

void Session::print_json(const Value& value) const {
  std::printf("%s\n", value.to_json_pretty().c_str());
}

int Session::fail(const Error& error) const {
  std::fprintf(stderr, "slipway: %s\n", error.message().c_str());
  return cli_exit_code(error.code());
}

int slipway_main(int argc, char** argv) {
  CLI::App app{"slipway: deploy and manage coordinated multi-machine systems", "slipway"};
  app.set_version_flag("--version", "slipway " SLIPWAY_VERSION);
  app.require_subcommand(1);
  Session session;
  session.socket = default_control_socket();
  app.add_option("--socket", session.socket, "the controller's control socket")
      ->capture_default_str();
  app.add_flag("--json", session.json, "print JSON instead of tables");

  Outcome outcome;
  add_status_commands(app, session, outcome);
  add_module_commands(app, session, outcome);
  add_deploy_commands(app, session, outcome);
  add_param_commands(app, session, outcome);
  add_log_commands(app, session, outcome);
  add_image_commands(app, session, outcome);
  add_agent_commands(app, session, outcome);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "slipway: %s\n", e.what());
    std::fprintf(stderr, "Run with --help for usage.\n");
    return 2;
  }
  return outcome.status;
}

}  // namespace slipway::cli
