// The `slipway` command: global options, and subcommands registered by area
// (commands_*.cpp). Each subcommand sets the process's exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "cli/client.h"
#include "common/status.h"
#include "common/value.h"

namespace slipway::cli {

// What every command shares: where the controller is and how to print.
class Session {
 public:
  std::string socket;
  bool json = false;

  ControlClient& client();
  // Calls the controller; on failure prints the error and returns its exit status.
  Result<Value> call(const Value& request, const std::function<void(const Value&)>& on_event = {});
  // Prints `value` as one JSON document.
  void print_json(const Value& value) const;
  // Prints "slipway: SENTENCE" on stderr; returns the exit status for `error`.
  int fail(const Error& error) const;

 private:
  std::unique_ptr<ControlClient> client_;
};

// The exit status a command produced; set by the command's callback.
struct Outcome {
  int status = 0;
};

void add_status_commands(CLI::App& app, Session& session, Outcome& outcome);
void add_agent_commands(CLI::App& app, Session& session, Outcome& outcome);
void add_module_commands(CLI::App& app, Session& session, Outcome& outcome);
void add_deploy_commands(CLI::App& app, Session& session, Outcome& outcome);
void add_param_commands(CLI::App& app, Session& session, Outcome& outcome);
void add_log_commands(CLI::App& app, Session& session, Outcome& outcome);
void add_image_commands(CLI::App& app, Session& session, Outcome& outcome);

// Waits for deployment `id` to reach `state`, showing progress on stderr
// when asked; returns the exit status: 0 reached, 8 aborted, 9 timeout, 1
// cancelled.
int watch(Session& session, const std::string& id, const std::string& state, int64_t timeout_s,
          bool progress);

int slipway_main(int argc, char** argv);

}  // namespace slipway::cli
