// The one interface every cloud implements. A connector provisions machines
// on one kind of cloud: launch a batch, terminate, describe, say what it can
// do, and (for the image factory) snapshot a machine into a new image. It
// delivers each machine's contextualization in the cloud's own way, and the
// image's boot starts the agent with it.
//
// Thread safety: the controller calls connectors from worker threads, never
// from its event loop, and may call one connector concurrently (a launch for
// one deployment while another terminates). Implementations are thread-safe.
// Every method may block.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/context.h"
#include "common/status.h"
#include "common/value.h"

namespace slipway::connectors {

struct Resources {
  int64_t cpus = 1;
  int64_t memory_mb = 512;
  int64_t disk_gb = 4;
};

// Everything needed to start one machine.
struct MachineSpec {
  // Unique and stable, chosen by the controller ("k3v9x2qa-web.2"); the
  // connector names its resources after it so that reap() can find them.
  std::string machine_id;
  std::string deployment;
  std::string instance;  // "web.2"
  std::string hostname;  // "web-2"
  // Holds the instance's secret key: deliver it to the machine, never log it.
  Contextualization context;
  // The image's reference for this connector, e.g. {rootfs: host} for local.
  Value reference;
  std::string platform;  // "debian", "busybox", ...
  Resources resources;
};

struct Machine {
  std::string machine_id;
  std::string address;  // how the controller and other machines reach it (an IP)
  // "running", "stopped", "gone" (the cloud has no such machine), or
  // "unknown" (the cloud answered, but not about this machine: a damaged
  // record, say).
  std::string vmstate;
};

// What snapshot() is asked: the machine, what it booted from (its image's
// reference for this cloud, as in its MachineSpec), and where the image goes.
struct SnapshotRequest {
  std::string machine_id;
  Value reference;
  std::string dir;  // absolute, empty, on the controller's host
};

struct Capabilities {
  bool snapshot = false;     // snapshot() works
  bool console_log = false;  // console_log() works
};

// What the controller hands a connector it makes.
struct ConnectorEnvironment {
  std::string state_dir;   // the cloud's own directory: DATA_DIR/clouds/NAME
  std::string agent_path;  // the static slipway-agent to put into machines
  std::string images_dir;  // where reference images built under images/ are found
  int agent_port = 0;      // the port the controller listens on for agents
  // The directory holding the controller's Unix socket for agents
  // (kAgentSocketName, alone there), "" when it has none: machines on this
  // host may use it.
  std::string agent_socket_dir;
};

inline constexpr const char* kAgentSocketDir = "agent-socket";
inline constexpr const char* kAgentSocketName = "agent.sock";

// "tcp://ADDRESS:PORT": how machines that do not share the controller's
// kernel reach it.
inline std::string tcp_agent_endpoint(const std::string& address, int port) {
  return "tcp://" + address + ":" + std::to_string(port);
}

// The controller's agent socket in `dir`, a directory where it is seen (the
// host's agent_socket_dir, or where a machine has it bound), and the
// "ipc://PATH" endpoint that names it.
inline std::string agent_socket_path(const std::string& dir) {
  return dir + "/" + kAgentSocketName;
}
inline std::string ipc_agent_endpoint(const std::string& dir) {
  return "ipc://" + agent_socket_path(dir);
}

// Told of one machine of a launch as soon as it is up or has failed: its
// index in the specs and its result.
using LaunchProgress = std::function<void(size_t index, const Result<Machine>& machine)>;

class Connector {
 public:
  virtual ~Connector() = default;

  // Makes the cloud ready (a bridge, NAT rules, ...). Called once, before
  // anything else. On failure the cloud is unusable and the error says why in
  // one sentence (for example that it needs root).
  virtual Status prepare() = 0;

  // The address machines of this cloud use to reach the controller.
  virtual std::string controller_address() const = 0;

  // The endpoint machines of this cloud connect their agents to: the
  // controller's Unix socket when the cloud can hand it to its machines (its
  // environment's agent_socket_dir), else tcp_agent_endpoint().
  virtual std::string agent_endpoint() const = 0;

  virtual Capabilities capabilities() const = 0;

  // Launches the machines, in parallel where the cloud allows; one result per
  // spec, in the same order. A machine that fails to launch leaves nothing
  // behind, and its Error says why in one sentence.
  //
  // `progress`, unless empty, is told of each machine as soon as its result
  // is known, from whichever thread launched it, and before launch()
  // returns, so the controller can act on the first machines of a batch
  // while the last still start. A connector that never calls it is correct,
  // only slower to report: the controller takes what it was not told from
  // the results.
  virtual std::vector<Result<Machine>> launch(const std::vector<MachineSpec>& specs,
                                              const LaunchProgress& progress) = 0;

  // Stops the machines and removes everything they used (processes, network
  // devices, mounts, disks). One result per id, in the same order: each
  // machine's own, so that one that cannot be removed does not stand for the
  // others. Idempotent: ids that are already gone succeed.
  virtual std::vector<Status> terminate(const std::vector<std::string>& machine_ids) = 0;

  // What the cloud says of these machines now, one per id in order; ids it
  // has no machine of are "gone". Fails, with kUnavailable, only when the
  // cloud itself cannot be asked: then nothing is known of any of them, which
  // is not the same as their being gone.
  virtual Result<std::vector<Machine>> describe(const std::vector<std::string>& machine_ids) = 0;

  // Removes every machine of this cloud whose id is not in `keep`: what a
  // controller that crashed left behind. Returns the ids removed.
  virtual Result<std::vector<std::string>> reap(const std::set<std::string>& keep) = 0;

  // The machine's console or boot log, when capabilities().console_log.
  virtual Result<std::string> console_log(const std::string& machine_id) {
    (void)machine_id;
    return Error(Code::kFailedPrecondition, "this cloud keeps no console log");
  }

  // Makes a new image of a running machine, when capabilities().snapshot
  // (the image factory, docs/images.md). The machine is stopped first, so
  // that what it wrote is complete; its agent is gone afterwards, and the
  // controller terminates it next. The image goes into `request.dir`, an
  // empty directory on the controller's host that the controller owns from
  // then on. Returns the reference the built image records for this cloud,
  // naming its files by absolute path. The machine's own contextualization
  // (its secret key) and its agent's state are not in the image. A failure
  // leaves `request.dir` for the controller to remove, and says why in one
  // sentence.
  virtual Result<Value> snapshot(const SnapshotRequest& request) {
    (void)request;
    return Error(Code::kFailedPrecondition, "this cloud cannot snapshot machines");
  }
  // Whether a machine booted from `reference` could be snapshotted, asked
  // before a build starts so that it is refused at once rather than after
  // its steps ran. The default says what capabilities() says.
  virtual Status check_snapshot(const Value& reference) const {
    (void)reference;
    if (capabilities().snapshot) return ok_status();
    return Error(Code::kFailedPrecondition, "this cloud cannot snapshot machines");
  }
};

// The first failure of a batch's results, or ok: for callers that only need
// to know whether all of it went.
inline Status first_failure(const std::vector<Status>& results) {
  for (const auto& s : results) {
    if (!s.ok()) return s;
  }
  return ok_status();
}

using ConnectorFactory = std::function<Result<std::unique_ptr<Connector>>(
    const CloudConfig& cloud, const ConnectorEnvironment& environment)>;

// Connector types by name. The controller owns one; nothing is global.
class ConnectorRegistry {
 public:
  void add(const std::string& type, ConnectorFactory factory);
  // Makes the connector of `cloud.connector`; kNotFound for an unknown type.
  Result<std::unique_ptr<Connector>> make(const CloudConfig& cloud,
                                          const ConnectorEnvironment& environment) const;
  std::vector<std::string> types() const;

 private:
  std::map<std::string, ConnectorFactory> factories_;
};

// Registers every connector built into slipwayd: one line per cloud.
void register_builtin_connectors(ConnectorRegistry& registry);

}  // namespace slipway::connectors
