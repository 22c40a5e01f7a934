#include "common/config.h"

#include <unistd.h>

#include <cstdlib>

#include "common/fs.h"
#include "common/yaml_util.h"

namespace slipway {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

std::string home() {
  return env_or("HOME", "/tmp");
}

Result<Millis> duration_at(const std::string& source, const YAML::Node& node,
                           const std::string& what) {
  SLIPWAY_ASSIGN_OR_RETURN(std::string text, yaml::get_string(source, node, what));
  auto parsed = parse_duration(text);
  if (!parsed.ok()) return yaml::error_at(source, node, what + ": " + parsed.error().message());
  return *parsed;
}

}  // namespace

const CloudConfig* Config::cloud(const std::string& name) const {
  for (const auto& c : clouds) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Config default_config() {
  Config config;
  if (::geteuid() == 0) {
    config.data_dir = "/var/lib/slipway";
  } else {
    config.data_dir = env_or("XDG_DATA_HOME", home() + "/.local/share") + "/slipway";
  }
  config.control_socket = default_control_socket();
  config.clouds.push_back(CloudConfig{"local", "local", Value::object()});
  return config;
}

std::string default_control_socket() {
  std::string from_env = env_or("SLIPWAY_SOCKET", "");
  if (!from_env.empty()) return from_env;
  if (::geteuid() == 0) return "/run/slipway/control.sock";
  return env_or("XDG_RUNTIME_DIR", "/tmp") + "/slipway.sock";
}

Result<Millis> parse_duration(const std::string& text) {
  if (text.empty()) return Error(Code::kInvalidArgument, "empty duration");
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) {
    return Error(Code::kInvalidArgument,
                 "\"" + text + "\" is not a duration such as 30s, 5m or 1h");
  }
  int64_t n = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  int64_t scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1000;
  else if (unit == "ms")
    scale = 1;
  else if (unit == "m")
    scale = 60 * 1000;
  else if (unit == "h")
    scale = 3600 * 1000;
  else
    return Error(Code::kInvalidArgument,
                 "\"" + text + "\" has an unknown unit (use ms, s, m or h)");
  return Millis(n * scale);
}

Result<Config> parse_config(const std::string& text, const std::string& source) {
  Config config = default_config();
  config.source = source;
  SLIPWAY_ASSIGN_OR_RETURN(YAML::Node root, yaml::parse(text, source));
  if (root.IsNull()) return config;  // an empty file keeps the defaults
  try {
    SLIPWAY_RETURN_IF_ERROR(yaml::check_keys(
        source, root, "the configuration",
        {"data-dir", "control-socket", "control-group", "admin-group", "agent-endpoint",
         "log-level", "heartbeat-interval", "heartbeat-timeout", "deployment-timeout",
         "provisioning-timeout", "agent-binary", "images-dir", "default-cloud", "clouds"}));
    auto str = [&](const char* key, std::string* out) -> Status {
      if (!root[key]) return ok_status();
      SLIPWAY_ASSIGN_OR_RETURN(*out, yaml::get_string(source, root[key], key));
      if (out->empty()) return yaml::error_at(source, root[key], std::string(key) + " is empty");
      return ok_status();
    };
    auto dur = [&](const char* key, Millis* out) -> Status {
      if (!root[key]) return ok_status();
      SLIPWAY_ASSIGN_OR_RETURN(*out, duration_at(source, root[key], key));
      if (out->count() <= 0)
        return yaml::error_at(source, root[key], std::string(key) + " must be positive");
      return ok_status();
    };
    SLIPWAY_RETURN_IF_ERROR(str("data-dir", &config.data_dir));
    SLIPWAY_RETURN_IF_ERROR(str("control-socket", &config.control_socket));
    SLIPWAY_RETURN_IF_ERROR(str("control-group", &config.control_group));
    SLIPWAY_RETURN_IF_ERROR(str("admin-group", &config.admin_group));
    SLIPWAY_RETURN_IF_ERROR(str("agent-endpoint", &config.agent_endpoint));
    SLIPWAY_RETURN_IF_ERROR(str("default-cloud", &config.default_cloud));
    SLIPWAY_RETURN_IF_ERROR(dur("heartbeat-interval", &config.heartbeat_interval));
    SLIPWAY_RETURN_IF_ERROR(dur("heartbeat-timeout", &config.heartbeat_timeout));
    SLIPWAY_RETURN_IF_ERROR(dur("deployment-timeout", &config.deployment_timeout));
    SLIPWAY_RETURN_IF_ERROR(dur("provisioning-timeout", &config.provisioning_timeout));
    SLIPWAY_RETURN_IF_ERROR(str("agent-binary", &config.agent_binary));
    SLIPWAY_RETURN_IF_ERROR(str("images-dir", &config.images_dir));
    if (root["log-level"]) {
      SLIPWAY_ASSIGN_OR_RETURN(std::string level,
                               yaml::get_string(source, root["log-level"], "log-level"));
      auto parsed = log::parse_level(level);
      if (!parsed.ok()) return yaml::error_at(source, root["log-level"], parsed.error().message());
      config.log_level = *parsed;
    }
    if (config.heartbeat_timeout <= config.heartbeat_interval) {
      return Error(Code::kInvalidArgument,
                   source + ": heartbeat-timeout must be longer than heartbeat-interval");
    }
    if (root["clouds"]) {
      const YAML::Node& clouds = root["clouds"];
      if (!clouds.IsMap()) return yaml::error_at(source, clouds, "clouds must map names to clouds");
      config.clouds.clear();
      // Range-for by value: yaml-cpp 0.7's iterator operator-> hands out a
      // proxy temporary that clang's ASan build showed to be unsafe.
      for (const auto& entry : clouds) {
        const YAML::Node key = entry.first;
        const YAML::Node body = entry.second;
        CloudConfig cloud;
        SLIPWAY_ASSIGN_OR_RETURN(cloud.name, yaml::get_string(source, key, "a cloud's name"));
        if (!body.IsMap())
          return yaml::error_at(source, body, "cloud " + cloud.name + " must be a mapping");
        cloud.connector = cloud.name;
        if (body["connector"]) {
          SLIPWAY_ASSIGN_OR_RETURN(cloud.connector,
                                   yaml::get_string(source, body["connector"], "connector"));
        }
        cloud.settings = Value::object();
        for (const auto& field : body) {
          if (!field.first.IsScalar())
            return yaml::error_at(source, field.first, "a setting's name must be a name");
          if (field.first.Scalar() == "connector") continue;
          SLIPWAY_ASSIGN_OR_RETURN(Value setting, yaml::to_value(source, field.second));
          cloud.settings.set(field.first.Scalar(), std::move(setting));
        }
        if (config.cloud(cloud.name) != nullptr) {
          return yaml::error_at(source, key, "cloud " + cloud.name + " is defined twice");
        }
        config.clouds.push_back(std::move(cloud));
      }
    }
    if (config.cloud(config.default_cloud) == nullptr) {
      return Error(Code::kInvalidArgument, source + ": default-cloud \"" + config.default_cloud +
                                               "\" is not among the clouds");
    }
  } catch (const YAML::Exception& e) {
    return Error(Code::kInvalidArgument,
                 source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return config;
}

Result<Config> load_config(const std::string& path) {
  SLIPWAY_ASSIGN_OR_RETURN(std::string text, fs::read_file(path, 1 << 20));
  return parse_config(text, path);
}

}  // namespace slipway
