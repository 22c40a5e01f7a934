// The deployment engine's part in the image factory (docs/images.md): a
// build is a one-node run whose plan holds the image's install steps; once
// it is Ready, before it finalizes, its machine is made an image.
#include "common/log.h"
#include "controller/deployments/deployment_engine.h"

namespace slipway::controller {
namespace {

const NodePlan* build_node(const Deployment& d) {
  for (const auto& node : d.nodes) {
    if (!node.builds.empty()) return &node;
  }
  return nullptr;
}

}  // namespace

bool DeploymentEngine::holds_for_snapshot(Deployment& d) {
  const NodePlan* node = build_node(d);
  if (node == nullptr) return false;
  // A snapshot under way holds the run even when it is cancelled or
  // aborted meanwhile: its machine is not removed under the connector.
  if (snapshotting_.count(d.id)) return true;
  if (d.aborted || d.terminate_requested || snapshotted_.count(d.id)) return false;
  auto live = d.live(node->name);
  if (live.size() != 1) {
    raise_abort(d, "a build needs exactly one machine; it has " + std::to_string(live.size()));
    return true;
  }
  Instance& instance = d.instances.at(live.front()->name);
  auto build = builds_.find(node->builds);
  if (!build.ok() || !*build) {
    raise_abort(d, "the record of build " + node->builds + " is gone");
    return true;
  }
  if ((*build)->state == BuildState::kReady) {  // made before a restart
    snapshotted_.insert(d.id);
    return false;
  }
  if (instance.phase == InstancePhase::kSnapshotting) {
    // The controller stopped while the machine was being made an image:
    // what the connector left of it cannot be trusted.
    raise_abort(d, "the controller stopped while " + instance.name + " was being snapshotted");
    return true;
  }
  instance.phase = InstancePhase::kSnapshotting;
  save(d, instance);
  snapshotting_.insert(d.id);
  events_.record(d.id, "image.snapshot",
                 "making " + instance.name + " an image of " + node->image + " on " + node->cloud);
  SnapshotOrder order;
  order.instance = instance.name;
  order.cloud = instance.cloud;
  order.request.machine_id = instance.machine_id;
  order.request.reference = node->reference;
  order.request.dir = (*build)->dir;
  provisioner_.snapshot(d.id, std::move(order));
  notify(EngineNotice::Kind::kInstance, d.id, instance.name);
  return true;
}

void DeploymentEngine::on_snapshotted(const std::string& id, const std::string& name,
                                      const Result<Snapshot>& snapshot) {
  snapshotting_.erase(id);
  Deployment* d = find_active(id);
  if (d == nullptr) return;
  const NodePlan* node = build_node(*d);
  Instance* instance = instance_of(*d, name);
  if (node == nullptr || instance == nullptr) return;
  // Its agent went with the machine: the instance is finalized from here.
  instance->phase = InstancePhase::kTerminating;
  save(*d, *instance);
  if (d->aborted || d->terminate_requested) {
    // Cancelled or aborted while the image was made: it is not kept
    // (end_build() records the build failed and removes its files).
    advance(*d);
    return;
  }
  Status recorded = snapshot.ok()
                        ? builds_.ready(node->builds, snapshot->reference, snapshot->size_bytes)
                        : Status(snapshot.error());
  if (!recorded.ok()) {
    raise_abort(*d, "the image of " + node->image + " could not be made: " +
                        recorded.error().message());
    return;
  }
  snapshotted_.insert(id);
  events_.record(id, "image.built",
                 node->image + " is built on " + node->cloud + " (" +
                     std::to_string(snapshot->size_bytes >> 20) + " MiB)");
  notify(EngineNotice::Kind::kInstance, id, name);
  advance(*d);
}

void DeploymentEngine::end_build(const Deployment& d) {
  const NodePlan* node = build_node(d);
  if (node == nullptr) return;
  if (!snapshotted_.erase(d.id)) {
    std::string reason = d.aborted ? d.abort_reason : "the build was cancelled";
    Status failed = builds_.failed(node->builds, reason);
    if (!failed.ok()) {
      LOG_WARN("deployment %s: build %s failed, and that could not be stored: %s", d.id.c_str(),
               node->builds.c_str(), failed.error().message().c_str());
    }
  }
}

}  // namespace slipway::controller
