// Contextualization: what a machine's agent needs to find and prove itself to
// the controller. The connector delivers it in the cloud's own way (a file in
// the root file system, a NoCloud seed, the kernel command line); all carry
// the same "key=value" lines:
//
//   endpoint=tcp://10.213.0.1:7740        (or ipc:///run/slipway-controller/agent.sock)
//   server-key=<controller public key, Z85>
//   public-key=<this instance's public key, Z85>
//   secret-key=<this instance's secret key, Z85>
//   deployment=k3v9x2qa
//   instance=web.2
//
// On a kernel command line the same keys appear prefixed "slipway.".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace slipway {

// "tcp://HOST:PORT" in its parts; HOST may be "[v6]" and keeps its brackets.
// nullopt when the endpoint is not of that form (PORT all digits).
struct EndpointParts {
  std::string host;
  std::string port;
};
std::optional<EndpointParts> split_endpoint(std::string_view endpoint);

// The path of "ipc:///ABSOLUTE/PATH", the controller's Unix socket as
// machines on its own kernel reach it (ZeroMQ's name for the transport);
// nullopt when the endpoint is not of that form or the path cannot be a
// socket's (longer than 107 bytes, or holding a space or control character).
std::optional<std::string> ipc_path(std::string_view endpoint);
inline constexpr size_t kMaxSocketPath = 107;

struct Contextualization {
  std::string endpoint;
  std::string server_key;
  std::string public_key;
  std::string secret_key;
  std::string deployment;  // "" for an agent registered by hand
  std::string instance;

  // The "key=value" text form, one per line.
  std::string to_text() const;
  // The kernel command line form: "slipway.endpoint=... slipway.server-key=...".
  std::string to_kernel_args() const;

  // Parses the text form. Unknown keys are ignored (newer controllers may add
  // some); missing or malformed required ones fail.
  static Result<Contextualization> parse(std::string_view text);
  // Picks the "slipway."-prefixed words out of a kernel command line.
  static Result<Contextualization> parse_kernel_args(std::string_view cmdline);
  // Extracts the text form from NoCloud user-data written by a connector
  // (a #cloud-config whose write_files holds it).
  static Result<Contextualization> parse_user_data(std::string_view user_data);
  // #cloud-config user-data that writes the context file and starts the agent.
  std::string to_user_data() const;
};

}  // namespace slipway
