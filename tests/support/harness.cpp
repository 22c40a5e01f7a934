#include "support/harness.h"

#include <catch2/catch.hpp>
#include <csignal>

#include "cli/client.h"
#include "common/fs.h"
#include "support/json.h"

namespace slipway::test {

std::string slipwayd_path() {
  return SLIPWAYD_PATH;
}
std::string slipway_path() {
  return SLIPWAY_PATH;
}
std::string agent_path() {
  return SLIPWAY_AGENT_PATH;
}

Harness::Harness(std::string config_yaml, std::string agent_endpoint)
    : endpoint_arg_(std::move(agent_endpoint)) {
  socket_ = dir_.path() + "/control.sock";
  log_ = dir_.path() + "/slipwayd.log";
  // Without clouds of its own a test's controller would make the default
  // local cloud's bridge, slipway0, which is the host's, not the test's: it
  // gets the process cloud only.
  if (config_yaml.find("clouds:") == std::string::npos) {
    config_yaml += "default-cloud: process\nclouds: {process: {}}\n";
  }
  config_path_ = dir_.path() + "/slipway.yaml";
  REQUIRE(fs::write_file_atomic(config_path_, config_yaml, 0644).ok());
}

Harness::~Harness() {
  if (controller_.running()) {
    controller_.signal(SIGTERM);
    if (controller_.wait(10000) == -1) controller_.kill();
  }
}

void Harness::start() {
  std::vector<std::string> argv = {
      slipwayd_path(),
      "--data-dir",
      dir_.path() + "/data",
      "--control-socket",
      socket_,
      "--agent-endpoint",
      port_ != 0 ? endpoint_arg_.substr(0, endpoint_arg_.rfind(':') + 1) + std::to_string(port_)
                 : endpoint_arg_,
      "--log-level",
      "debug"};
  if (!config_path_.empty()) {
    argv.push_back("--config");
    argv.push_back(config_path_);
  }
  controller_ = Process(argv, log_);
  Value status;
  bool up = eventually(
      [&] {
        auto answer = call(Value::object().set("op", "status"));
        if (!answer.ok()) return false;
        status = *answer;
        return true;
      },
      15000);
  INFO("slipwayd log:\n" << read_text(log_));
  REQUIRE(up);
  std::string endpoint = status["agent_endpoint"].str();
  port_ = std::atoi(endpoint.substr(endpoint.rfind(':') + 1).c_str());
  REQUIRE(port_ > 0);
}

void Harness::restart_after_crash() {
  controller_.kill();
  start();
}

int Harness::terminate() {
  controller_.signal(SIGTERM);
  return controller_.wait(15000);
}

Output Harness::cli(const std::vector<std::string>& args, const std::string& input,
                    int timeout_ms) {
  std::vector<std::string> argv = {slipway_path(), "--socket", socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, input, timeout_ms);
}

Value Harness::cli_json(const std::vector<std::string>& args) {
  std::vector<std::string> with_json = {"--json"};
  with_json.insert(with_json.end(), args.begin(), args.end());
  Output out = cli(with_json);
  INFO("stderr: " << out.err);
  REQUIRE(out.status == 0);
  auto parsed = parse_json(out.out);
  INFO("stdout: " << out.out);
  REQUIRE(parsed.ok());
  return *parsed;
}

Result<Value> Harness::call(const Value& request) {
  cli::ControlClient client(socket_);
  return client.call(request);
}

std::string Harness::register_agent(const std::string& name) {
  std::string path = dir_.path() + "/" + name + ".context";
  Output out = cli({"agent", "add", name, "-o", path});
  INFO(out.err);
  REQUIRE(out.status == 0);
  return path;
}

Process Harness::start_agent(const std::string& context_path, const std::string& log_name) {
  // Each agent keeps its state (and its ss-* socket) in the test's directory,
  // never in the machine's /var/lib/slipway-agent.
  return Process({agent_path(), "--context", context_path, "--state-dir",
                  dir_.path() + "/" + log_name + ".state", "--log-level", "debug"},
                 dir_.path() + "/" + log_name);
}

std::string Harness::agent_state(const std::string& name) {
  Value status = cli_json({"status"});
  for (const auto& agent : status["agents"].items()) {
    if (agent["name"].str() == name) return agent["state"].str();
  }
  return "";
}

}  // namespace slipway::test
