// The controller's side of the agent protocol, in one object: the CurveZMQ
// endpoint, the keys it admits (in memory and in the store), which agents are
// connected, hellos, heartbeats and liveness. It is the deployment engine's
// AgentLink and KeyKeeper.
//
// Not thread-safe: every method runs on the controller's event loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/status.h"
#include "controller/agents/agent_directory.h"
#include "controller/agents/agent_endpoint.h"
#include "controller/agents/key_registry.h"
#include "controller/deployments/deployment_engine.h"
#include "controller/deployments/engine_ports.h"
#include "controller/deployments/event_log.h"
#include "controller/store/agent_keys.h"

namespace slipway::controller {

class Store;

struct AgentHubSettings {
  std::chrono::milliseconds heartbeat_interval{5000};
  std::chrono::milliseconds heartbeat_timeout{30000};
};

class AgentHub final : public AgentLink, public KeyKeeper {
 public:
  AgentHub(boost::asio::io_context& io, const Clock& clock, Store& store, EventLog& events,
           AgentHubSettings settings);
  AgentHub(const AgentHub&) = delete;
  AgentHub& operator=(const AgentHub&) = delete;

  // Admits the live keys of the store and listens for agents on `endpoint`
  // (tcp://ADDR:PORT). Fails with one sentence when it cannot.
  Status start(const std::string& endpoint, const crypto::KeyPair& keys);
  // Also listens on a Unix socket at `path`, for machines on this host.
  Status listen_local(const std::string& path);
  // The engine that agents' messages go to; set once, before the loop runs.
  void attach(DeploymentEngine& engine) { engine_ = &engine; }
  // After a restart: agents whose instances were running get the heartbeat
  // timeout to come back before they count as lost.
  Status expect_reconnects();
  void set_settings(AgentHubSettings settings) { settings_ = settings; }
  // Heartbeats and liveness; the controller calls it every tick.
  void tick();
  void stop();

  // Drops the connection of the agent of `public_key` and forgets its key.
  void drop_agent(const std::string& public_key, const std::string& reason);

  const AgentEndpoint& endpoint() const { return *endpoint_; }
  const AgentDirectory& directory() const { return agents_; }
  AgentKeyStore& key_store() { return key_store_; }

  // AgentLink and KeyKeeper, for the deployment engine.
  bool send(const AgentIdentity& identity, const proto::ControllerMessage& message) override;
  Status admit(const std::string& public_key, const AgentIdentity& identity) override;
  void revoke(const std::string& public_key, const std::string& reason) override;

 private:
  void on_frame(AgentFrame&& frame);
  void on_hello(const AgentFrame& frame, const AgentIdentity& identity, const proto::Hello& hello);
  // Has the engine write what it held back for a group commit once the
  // event loop has run the handlers ready now (a burst of barrier arrivals
  // read together is stored in one commit).
  void write_pending_soon();
  void send_heartbeats();
  void check_liveness();

  boost::asio::io_context& io_;
  const Clock& clock_;
  EventLog& events_;
  AgentHubSettings settings_;
  KeyRegistry key_registry_;
  AgentKeyStore key_store_;
  AgentDirectory agents_;
  std::unique_ptr<AgentEndpoint> endpoint_;
  DeploymentEngine* engine_ = nullptr;
  int64_t last_heartbeat_sent_ = 0;
  bool write_posted_ = false;
};

}  // namespace slipway::controller
