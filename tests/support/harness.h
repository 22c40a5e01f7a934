// A real slipwayd in a temporary directory, driven through the real `slipway`
// command and the control socket, with real agents. Ports are never fixed:
// the agent endpoint binds tcp://127.0.0.1:* and the harness reads it back.
#pragma once

#include <string>
#include <vector>

#include "common/value.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace slipway::test {

// Paths of the programs under test (set by CMake).
std::string slipwayd_path();
std::string slipway_path();
std::string agent_path();

class Harness {
 public:
  // `config_yaml` is written to a file and passed with --config when not empty.
  explicit Harness(std::string config_yaml = "", std::string agent_endpoint = "tcp://127.0.0.1:*");
  ~Harness();

  // Starts slipwayd and waits until it answers `status`. Fails the test if not.
  void start();
  // SIGKILL, then start again on the same data directory and agent port.
  void restart_after_crash();
  void kill() { controller_.kill(); }
  // SIGTERM and wait; returns the exit status.
  int terminate();
  bool running() { return controller_.running(); }
  pid_t controller_pid() const { return controller_.pid(); }

  // Runs `slipway --socket SOCK args...`.
  Output cli(const std::vector<std::string>& args, const std::string& input = "",
             int timeout_ms = 60000);
  // Runs `slipway --socket SOCK --json args...`; fails the test unless it
  // exits 0 with one JSON document.
  Value cli_json(const std::vector<std::string>& args);
  // One control request over the socket, without the CLI.
  Result<Value> call(const Value& request);

  // Registers an agent by hand; returns the path of its contextualization.
  std::string register_agent(const std::string& name);
  // Starts slipway-agent with a contextualization file.
  Process start_agent(const std::string& context_path, const std::string& log_name);

  // The state of agent `name` in `slipway status --json`, or "" when absent.
  std::string agent_state(const std::string& name);

  // Gives slipwayd this configuration file (before start()).
  void set_config(const std::string& path) { config_path_ = path; }

  const std::string& dir() const { return dir_.path(); }
  const std::string& socket() const { return socket_; }
  const std::string& log() const { return log_; }
  int agent_port() const { return port_; }

 private:
  TempDir dir_;
  std::string config_path_;
  std::string endpoint_arg_;
  std::string socket_;
  std::string log_;
  Process controller_;
  int port_ = 0;
};

}  // namespace slipway::test
