// The engine's Provisioner over real connectors: one connector per configured
// cloud, prepared at start, called on a small pool of worker threads so no
// cloud ever blocks the event loop; answers are posted back to the loop.
//
// Thread safety: launch(), terminate() and the queries are called on the
// event loop; connector calls run on the workers (connectors are thread-safe).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/mutex.h"
#include "connectors/connector.h"
#include "controller/deployments/cloud_state.h"
#include "controller/deployments/deployment_engine.h"

namespace slipway::controller {

class ConnectorProvisioner final : public Provisioner {
 public:
  using Launched = std::function<void(const std::string& deployment, const std::string& instance,
                                      const Result<connectors::Machine>& machine)>;
  using Terminated = std::function<void(const std::string& deployment, const std::string& instance,
                                        const Status& status)>;

  ConnectorProvisioner(boost::asio::io_context& io, const connectors::ConnectorRegistry& registry,
                       std::string server_key);
  ~ConnectorProvisioner() override;

  using Snapshotted = std::function<void(const std::string& deployment,
                                         const std::string& instance,
                                         const Result<Snapshot>& snapshot)>;

  // Where answers go (the engine), on the event loop.
  void set_answers(Launched launched, Terminated terminated, Snapshotted snapshotted);

  // Makes the connector of every cloud not yet known, and prepares it in the
  // background: prepare(), then reap() of every machine of that cloud not in
  // `keep` (what a crashed controller left). Launches wait for both, so a
  // reap never meets a machine being launched. Clouds whose connector cannot
  // be made are reported now.
  void add_clouds(const Config& config, const connectors::ConnectorEnvironment& base,
                  const std::map<std::string, std::set<std::string>>& keep);

  // Where the cloud is now; kUnknown for a cloud not configured.
  CloudState cloud_state(const std::string& cloud);
  Result<std::string> console_log(const std::string& cloud, const std::string& machine_id);

  void launch(const std::string& deployment, std::vector<LaunchOrder> orders) override;
  void terminate(const std::string& deployment, std::vector<TerminateOrder> orders) override;
  void snapshot(const std::string& deployment, SnapshotOrder order) override;
  // Whether the cloud could snapshot a machine of `reference`
  // (Connector::check_snapshot); ok for a cloud still preparing (never
  // waits: the snapshot itself says so later).
  Status check_snapshot(const std::string& cloud, const Value& reference);

  // Waits for work in flight (at shutdown).
  void stop();

 private:
  struct Cloud {
    std::string name;
    std::unique_ptr<connectors::Connector> connector;
    std::shared_future<Status> prepared;
    std::string agent_endpoint;  // where its machines' agents connect; set once prepared
  };
  // The cloud, after waiting for its preparation; an Error when unusable.
  Result<Cloud*> ready(const std::string& cloud);

  boost::asio::io_context& io_;
  const connectors::ConnectorRegistry& registry_;
  std::string server_key_;
  boost::asio::thread_pool pool_{4};
  Mutex mutex_;
  std::map<std::string, std::unique_ptr<Cloud>> clouds_ GUARDED_BY(mutex_);
  std::map<std::string, std::string> broken_ GUARDED_BY(mutex_);  // cloud -> why
  Launched launched_;
  Terminated terminated_;
  Snapshotted snapshotted_;
};

}  // namespace slipway::controller
