#include "common/context.h"

#include "common/crypto.h"

namespace slipway {

std::optional<EndpointParts> split_endpoint(std::string_view endpoint) {
  if (endpoint.substr(0, 6) != "tcp://") return std::nullopt;
  size_t colon = endpoint.rfind(':');
  if (colon <= 6 || colon + 1 == endpoint.size() ||
      endpoint.find_first_not_of("0123456789", colon + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return EndpointParts{std::string(endpoint.substr(6, colon - 6)),
                       std::string(endpoint.substr(colon + 1))};
}

std::optional<std::string> ipc_path(std::string_view endpoint) {
  if (endpoint.substr(0, 6) != "ipc://") return std::nullopt;
  std::string_view path = endpoint.substr(6);
  if (path.empty() || path[0] != '/' || path.size() > kMaxSocketPath) return std::nullopt;
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return std::nullopt;
  }
  return std::string(path);
}

namespace {

bool valid_endpoint(const std::string& e) {
  return split_endpoint(e).has_value() || ipc_path(e).has_value();
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

template <typename Each>
void for_each_line(std::string_view text, char separator, Each each) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    each(text.substr(start, end - start));
    start = end + 1;
  }
}

constexpr std::string_view kUserDataPath = "path: /etc/slipway/context";

}  // namespace

std::string Contextualization::to_text() const {
  std::string out;
  out += "endpoint=" + endpoint + "\n";
  out += "server-key=" + server_key + "\n";
  out += "public-key=" + public_key + "\n";
  out += "secret-key=" + secret_key + "\n";
  out += "deployment=" + deployment + "\n";
  out += "instance=" + instance + "\n";
  return out;
}

std::string Contextualization::to_kernel_args() const {
  std::string out;
  for_each_line(to_text(), '\n', [&](std::string_view line) {
    if (line.empty()) return;
    if (!out.empty()) out += ' ';
    out += "slipway.";
    out += line;
  });
  return out;
}

Result<Contextualization> Contextualization::parse(std::string_view text) {
  Contextualization c;
  for_each_line(text, '\n', [&](std::string_view raw) {
    std::string_view line = raw;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.empty() || line.front() == '#') return;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return;
    std::string_view key = line.substr(0, eq);
    std::string value(line.substr(eq + 1));
    if (key == "endpoint")
      c.endpoint = value;
    else if (key == "server-key")
      c.server_key = value;
    else if (key == "public-key")
      c.public_key = value;
    else if (key == "secret-key")
      c.secret_key = value;
    else if (key == "deployment")
      c.deployment = value;
    else if (key == "instance")
      c.instance = value;
  });
  if (!valid_endpoint(c.endpoint)) {
    return Error(Code::kInvalidArgument,
                 "contextualization: endpoint must be tcp://HOST:PORT or ipc:///PATH");
  }
  if (!crypto::is_valid_key(c.server_key)) {
    return Error(Code::kInvalidArgument, "contextualization: server-key is not a CURVE public key");
  }
  if (!crypto::is_valid_key(c.public_key) || !crypto::is_valid_key(c.secret_key)) {
    return Error(Code::kInvalidArgument,
                 "contextualization: public-key and secret-key must be a CURVE key pair");
  }
  if (!valid_name(c.instance)) {
    return Error(Code::kInvalidArgument, "contextualization: instance is missing or malformed");
  }
  if (!c.deployment.empty() && !valid_name(c.deployment)) {
    return Error(Code::kInvalidArgument, "contextualization: deployment is malformed");
  }
  return c;
}

Result<Contextualization> Contextualization::parse_kernel_args(std::string_view cmdline) {
  std::string text;
  for_each_line(cmdline, ' ', [&](std::string_view word) {
    while (!word.empty() && word.back() == '\n') word.remove_suffix(1);
    if (word.rfind("slipway.", 0) == 0) {
      text.append(word.substr(8));
      text += '\n';
    }
  });
  if (text.empty())
    return Error(Code::kNotFound, "the kernel command line has no slipway.* arguments");
  return parse(text);
}

std::string Contextualization::to_user_data() const {
  std::string out = "#cloud-config\nwrite_files:\n  - " + std::string(kUserDataPath) +
                    "\n    permissions: '0600'\n    content: |\n";
  for_each_line(to_text(), '\n', [&](std::string_view line) {
    if (!line.empty()) out += "      " + std::string(line) + "\n";
  });
  out +=
      "runcmd:\n  - [sh, -c, 'systemctl restart slipway-agent || /usr/sbin/slipway-agent "
      "--daemon']\n";
  return out;
}

Result<Contextualization> Contextualization::parse_user_data(std::string_view user_data) {
  size_t at = user_data.find(kUserDataPath);
  if (at == std::string_view::npos) {
    return Error(Code::kNotFound, "the user-data does not write /etc/slipway/context");
  }
  size_t content = user_data.find("content: |", at);
  if (content == std::string_view::npos) {
    return Error(Code::kInvalidArgument, "the user-data's context entry has no content block");
  }
  size_t line_start = user_data.find('\n', content);
  std::string text;
  while (line_start != std::string_view::npos && line_start + 1 < user_data.size()) {
    size_t next = user_data.find('\n', line_start + 1);
    std::string_view line = user_data.substr(
        line_start + 1,
        (next == std::string_view::npos ? user_data.size() : next) - line_start - 1);
    if (line.rfind("      ", 0) != 0) break;  // the block ends where its indentation does
    text.append(line.substr(6));
    text += '\n';
    line_start = next;
  }
  return parse(text);
}

}  // namespace slipway
