#include "common/config.h"

#include <catch2/catch.hpp>

#include "common/log.h"

using namespace slipway;

TEST_CASE("no configuration at all gives working defaults", "[config]") {
  Config c = default_config();
  CHECK_FALSE(c.data_dir.empty());
  CHECK_FALSE(c.control_socket.empty());
  REQUIRE(c.cloud("local") != nullptr);
  CHECK(c.default_cloud == "local");
  CHECK(c.heartbeat_timeout == Millis(30000));
  CHECK(c.deployment_timeout == Millis(3600 * 1000));
  auto empty = parse_config("", "empty.yaml");
  REQUIRE(empty.ok());
  CHECK(empty->cloud("local") != nullptr);
}

TEST_CASE("a configuration file overrides the defaults", "[config]") {
  auto c = parse_config(R"(
data-dir: /srv/slipway
agent-endpoint: tcp://10.0.0.1:9000
log-level: debug
heartbeat-interval: 500ms
heartbeat-timeout: 3s
deployment-timeout: 2h
admin-group: ops
default-cloud: vms
clouds:
  local: {}
  vms:
    connector: qemu
    memory_mb: 256
)",
                        "slipway.yaml");
  REQUIRE(c.ok());
  CHECK(c->data_dir == "/srv/slipway");
  CHECK(c->agent_endpoint == "tcp://10.0.0.1:9000");
  CHECK(c->log_level == log::Level::kDebug);
  CHECK(c->heartbeat_interval == Millis(500));
  CHECK(c->heartbeat_timeout == Millis(3000));
  CHECK(c->deployment_timeout == Millis(7200 * 1000));
  CHECK(c->admin_group == "ops");
  REQUIRE(c->cloud("vms") != nullptr);
  CHECK(c->cloud("vms")->connector == "qemu");
  CHECK(c->cloud("vms")->settings["memory_mb"].as_int() == 256);
  CHECK(c->cloud("local")->connector == "local");
}

TEST_CASE("configuration errors name the file and line", "[config]") {
  auto unknown = parse_config("data-dir: /x\nheartbeat: 3s\n", "c.yaml");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message() == "c.yaml:2: unknown key \"heartbeat\" in the configuration");

  auto bad_duration = parse_config("\n\nheartbeat-timeout: soon\n", "c.yaml");
  REQUIRE_FALSE(bad_duration.ok());
  CHECK(bad_duration.error().message().rfind("c.yaml:3: heartbeat-timeout: ", 0) == 0);

  auto bad_level = parse_config("log-level: loud\n", "c.yaml");
  REQUIRE_FALSE(bad_level.ok());
  CHECK(bad_level.error().message().find("log level must be debug, info, warn, error or off") !=
        std::string::npos);

  auto syntax = parse_config("clouds: [\n", "c.yaml");
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.error().message().rfind("c.yaml:", 0) == 0);

  auto missing_default = parse_config("default-cloud: aws\n", "c.yaml");
  REQUIRE_FALSE(missing_default.ok());
  CHECK(missing_default.error().message() ==
        "c.yaml: default-cloud \"aws\" is not among the clouds");

  auto not_a_map = parse_config("- a\n- b\n", "c.yaml");
  REQUIRE_FALSE(not_a_map.ok());
  CHECK(not_a_map.error().message() == "c.yaml:1: the configuration must be a mapping");

  auto timeouts = parse_config("heartbeat-interval: 5s\nheartbeat-timeout: 2s\n", "c.yaml");
  REQUIRE_FALSE(timeouts.ok());
}

TEST_CASE("durations accept ms, s, m, h and bare seconds", "[config]") {
  CHECK(*parse_duration("250ms") == Millis(250));
  CHECK(*parse_duration("30") == Millis(30000));
  CHECK(*parse_duration("5m") == Millis(300000));
  CHECK_FALSE(parse_duration("").ok());
  CHECK_FALSE(parse_duration("-5s").ok());
  CHECK_FALSE(parse_duration("5 s").ok());
  CHECK_FALSE(parse_duration("5d").ok());
  CHECK_FALSE(parse_duration("99999999999999999s").ok());
}

TEST_CASE("log levels parse by name, and a bad one says which names there are", "[config]") {
  CHECK(log::parse_level("debug").value() == log::Level::kDebug);
  CHECK(log::parse_level("warning").value() == log::Level::kWarn);
  CHECK(log::parse_level("off").value() == log::Level::kOff);
  auto loud = log::parse_level("loud");
  REQUIRE_FALSE(loud.ok());
  CHECK(loud.error().code() == Code::kInvalidArgument);
  CHECK(loud.error().message() ==
        "log level must be debug, info, warn, error or off, not \"loud\"");
}
