#include "controller/deployments/provisioner.h"

#include <boost/asio/post.hpp>

#include "common/fs.h"
#include "common/log.h"

namespace slipway::controller {

namespace asio = boost::asio;

ConnectorProvisioner::ConnectorProvisioner(asio::io_context& io,
                                           const connectors::ConnectorRegistry& registry,
                                           std::string server_key)
    : io_(io), registry_(registry), server_key_(std::move(server_key)) {}

ConnectorProvisioner::~ConnectorProvisioner() {
  stop();
}

void ConnectorProvisioner::stop() {
  pool_.join();
}

void ConnectorProvisioner::set_answers(Launched launched, Terminated terminated,
                                       Snapshotted snapshotted) {
  launched_ = std::move(launched);
  terminated_ = std::move(terminated);
  snapshotted_ = std::move(snapshotted);
}

void ConnectorProvisioner::add_clouds(const Config& config,
                                      const connectors::ConnectorEnvironment& base,
                                      const std::map<std::string, std::set<std::string>>& keep) {
  for (const auto& cloud_config : config.clouds) {
    MutexLock lock(mutex_);
    if (clouds_.count(cloud_config.name) || broken_.count(cloud_config.name)) continue;
    connectors::ConnectorEnvironment env = base;
    env.state_dir = base.state_dir + "/" + cloud_config.name;
    auto made = registry_.make(cloud_config, env);
    if (!made.ok()) {
      LOG_ERROR("cloud %s: %s", cloud_config.name.c_str(), made.error().message().c_str());
      broken_[cloud_config.name] = made.error().message();
      continue;
    }
    auto cloud = std::make_unique<Cloud>();
    cloud->name = cloud_config.name;
    cloud->connector = std::move(*made);
    auto promise = std::make_shared<std::promise<Status>>();
    cloud->prepared = promise->get_future().share();
    Cloud* raw = cloud.get();
    clouds_[cloud_config.name] = std::move(cloud);
    std::set<std::string> kept =
        keep.count(cloud_config.name) ? keep.at(cloud_config.name) : std::set<std::string>();
    asio::post(pool_, [raw, promise, kept] {
      Status status = raw->connector->prepare();
      if (status.ok()) {
        raw->agent_endpoint = raw->connector->agent_endpoint();
        auto removed = raw->connector->reap(kept);
        if (!removed.ok()) {
          LOG_WARN("cloud %s: cannot remove leftovers: %s", raw->name.c_str(),
                   removed.error().message().c_str());
        } else if (!removed->empty()) {
          LOG_INFO("cloud %s: removed %zu machine(s) a previous run left behind", raw->name.c_str(),
                   removed->size());
        }
        LOG_INFO("cloud %s is ready; its machines reach the controller at %s", raw->name.c_str(),
                 raw->agent_endpoint.c_str());
      } else {
        LOG_WARN("cloud %s is not available: %s", raw->name.c_str(),
                 status.error().message().c_str());
      }
      promise->set_value(status);
    });
  }
}

Result<ConnectorProvisioner::Cloud*> ConnectorProvisioner::ready(const std::string& name) {
  Cloud* cloud = nullptr;
  {
    MutexLock lock(mutex_);
    auto broken = broken_.find(name);
    if (broken != broken_.end())
      return Error(Code::kUnavailable, "cloud " + name + " is not available: " + broken->second);
    auto it = clouds_.find(name);
    if (it == clouds_.end()) return Error(Code::kNotFound, "there is no cloud named " + name);
    cloud = it->second.get();
  }
  Status prepared = cloud->prepared.get();
  if (!prepared.ok()) {
    return Error(Code::kUnavailable,
                 "cloud " + name + " is not available: " + prepared.error().message());
  }
  return cloud;
}

CloudState ConnectorProvisioner::cloud_state(const std::string& name) {
  std::shared_future<Status> prepared;
  {
    MutexLock lock(mutex_);
    auto broken = broken_.find(name);
    if (broken != broken_.end()) return CloudState::unavailable(broken->second);
    auto it = clouds_.find(name);
    if (it == clouds_.end()) return CloudState{};
    prepared = it->second->prepared;
  }
  if (prepared.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return CloudState{CloudState::Phase::kPreparing};
  Status status = prepared.get();
  if (!status.ok()) return CloudState::unavailable(status.error().message());
  return CloudState{CloudState::Phase::kReady};
}

Result<std::string> ConnectorProvisioner::console_log(const std::string& cloud_name,
                                                      const std::string& machine_id) {
  // Called on the event loop: never wait for a cloud still preparing.
  CloudState state = cloud_state(cloud_name);
  if (state.phase != CloudState::Phase::kReady)
    return Error(Code::kUnavailable, "cloud " + cloud_name + " is " + state.text());
  SLIPWAY_ASSIGN_OR_RETURN(Cloud * cloud, ready(cloud_name));
  return cloud->connector->console_log(machine_id);
}

void ConnectorProvisioner::launch(const std::string& deployment, std::vector<LaunchOrder> orders) {
  if (orders.empty()) return;
  asio::post(pool_, [this, deployment, orders = std::move(orders)]() mutable {
    // Each machine goes to the event loop as soon as the connector says it
    // is up (its hostname parameter may be what other machines wait for),
    // and at the latest with the batch's results; once only, even from a
    // connector that calls back twice or after launch() returned.
    struct Reports {
      Mutex mutex;
      std::vector<std::string> instances;
      std::vector<bool> reported;
    };
    auto reports = std::make_shared<Reports>();
    for (const auto& order : orders) reports->instances.push_back(order.spec.instance);
    reports->reported.assign(orders.size(), false);
    auto report = [this, deployment, reports](size_t i, const Result<connectors::Machine>& result) {
      {
        MutexLock lock(reports->mutex);
        if (i >= reports->reported.size() || reports->reported[i]) return;
        reports->reported[i] = true;
      }
      asio::post(io_, [this, deployment, instance = reports->instances[i], result] {
        launched_(deployment, instance, result);
      });
    };
    std::string cloud_name = orders.front().cloud;
    auto cloud = ready(cloud_name);
    std::vector<Result<connectors::Machine>> results;
    if (!cloud.ok()) {
      for (size_t i = 0; i < orders.size(); ++i) results.emplace_back(cloud.error());
    } else {
      std::vector<connectors::MachineSpec> specs;
      for (auto& order : orders) {
        order.spec.context.endpoint = (*cloud)->agent_endpoint;
        order.spec.context.server_key = server_key_;
        specs.push_back(std::move(order.spec));
      }
      results = (*cloud)->connector->launch(specs, report);
      for (auto& spec : specs) spec.context.secret_key.assign(spec.context.secret_key.size(), '\0');
      if (results.size() != specs.size()) {
        results.assign(specs.size(),
                       Error(Code::kInternal,
                             "cloud " + cloud_name + " answered the wrong number of machines"));
      }
    }
    for (size_t i = 0; i < results.size(); ++i) report(i, results[i]);
  });
}

void ConnectorProvisioner::terminate(const std::string& deployment,
                                     std::vector<TerminateOrder> orders) {
  if (orders.empty()) return;
  asio::post(pool_, [this, deployment, orders = std::move(orders)] {
    auto cloud = ready(orders.front().cloud);
    std::vector<Status> results;
    if (!cloud.ok()) {
      results.assign(orders.size(), cloud.error());
    } else {
      std::vector<std::string> ids;
      for (const auto& order : orders) ids.push_back(order.machine_id);
      results = (*cloud)->connector->terminate(ids);
    }
    // Each machine's own result: one that could not be removed is retried
    // and reported alone. A connector that answers too few is a bug, named.
    results.resize(orders.size(),
                   Error(Code::kInternal, "cloud " + orders.front().cloud +
                                              " gave no result for this machine's removal"));
    for (size_t i = 0; i < orders.size(); ++i) {
      asio::post(io_, [this, deployment, instance = orders[i].instance, status = results[i]] {
        terminated_(deployment, instance, status);
      });
    }
  });
}

void ConnectorProvisioner::snapshot(const std::string& deployment, SnapshotOrder order) {
  asio::post(pool_, [this, deployment, order = std::move(order)] {
    Result<Snapshot> result = [&]() -> Result<Snapshot> {
      SLIPWAY_ASSIGN_OR_RETURN(Cloud * cloud, ready(order.cloud));
      SLIPWAY_ASSIGN_OR_RETURN(Value reference, cloud->connector->snapshot(order.request));
      return Snapshot{std::move(reference), fs::tree_usage(order.request.dir).bytes};
    }();
    asio::post(io_, [this, deployment, instance = order.instance, result] {
      snapshotted_(deployment, instance, result);
    });
  });
}

Status ConnectorProvisioner::check_snapshot(const std::string& name, const Value& reference) {
  if (cloud_state(name).phase != CloudState::Phase::kReady) return ok_status();
  SLIPWAY_ASSIGN_OR_RETURN(Cloud * cloud, ready(name));
  Status s = cloud->connector->check_snapshot(reference);
  if (!s.ok()) return s.error().wrap("cloud " + name + " cannot build this image");
  return ok_status();
}

}  // namespace slipway::controller
