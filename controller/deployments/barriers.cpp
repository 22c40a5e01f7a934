#include "controller/deployments/barriers.h"

#include <algorithm>

#include "common/log.h"
#include "controller/deployments/deployment.h"

namespace slipway::controller {

void BarrierBook::save() {
  if (unsaved_.empty()) return;
  std::vector<Row> rows = std::move(unsaved_);
  unsaved_.clear();
  auto failed = rows_.put_all(rows);
  if (failed.empty()) return;
  LOG_ERROR("cannot record %zu of %zu barrier arrivals, which are undone: %s", failed.size(),
            rows.size(), failed.begin()->second.message().c_str());
  for (const auto& [i, error] : failed) undo(rows[i], error);
}

void BarrierBook::undo(const Row& arrival, const Error& error) {
  auto d = barriers_.find(arrival.deployment);
  if (d == barriers_.end()) return;
  auto it = d->second.find(arrival.name);
  if (it == d->second.end() || it->second.released) return;
  Barrier& b = it->second;
  b.arrived.erase(arrival.instance);
  auto w = std::find_if(b.waiters.begin(), b.waiters.end(),
                        [&](const Waiter& waiter) { return waiter.instance == arrival.instance; });
  if (w == b.waiters.end()) return;
  Callback callback = std::move(w->callback);
  b.waiters.erase(w);
  callback(error);
}

bool BarrierBook::satisfied(const Deployment& d, const Barrier& b,
                            const BarrierScope& scope) const {
  if (scope.count > 0) return static_cast<int64_t>(b.arrived.size()) >= scope.count;
  std::vector<const Instance*> expected;
  if (scope.nodes.empty()) {
    expected = d.live();
  } else {
    for (const auto& node : scope.nodes) {
      auto live = d.live(node);
      expected.insert(expected.end(), live.begin(), live.end());
    }
  }
  return std::all_of(expected.begin(), expected.end(),
                     [&](const Instance* i) { return b.arrived.count(i->name) > 0; });
}

void BarrierBook::release_if_satisfied(const Deployment& d, const std::string& name, Barrier& b) {
  if (!any_satisfied(d, b)) return;
  save();  // every arrival stored before anyone is answered
  if (!b.released && any_satisfied(d, b)) release(d.id, name, b);
}

void BarrierBook::release(const std::string& deployment, const std::string& name, Barrier& b) {
  b.released = true;
  // Answered first, the release recorded after: the answers travel while
  // SQLite writes. A controller that dies in between has every arrival
  // stored (release_if_satisfied), so the agents' re-sent arrivals release
  // the barrier again.
  auto waiters = std::move(b.waiters);
  b.waiters.clear();
  for (auto& w : waiters) w.callback(ok_status());
  auto failed = rows_.put_all({Row{deployment, name, ""}});
  if (!failed.empty())
    LOG_ERROR("cannot record the release of barrier %s: %s", name.c_str(),
              failed.begin()->second.message().c_str());
  LOG_DEBUG("%s barrier %s released: %zu arrived, %zu answered", deployment.c_str(), name.c_str(),
            b.arrived.size(), waiters.size());
}

void BarrierBook::arrive(const Deployment& d, const std::string& name, const std::string& instance,
                         const BarrierScope& scope, int64_t deadline_steady, Callback callback) {
  Barrier& b = barriers_[d.id][name];
  if (b.released) {
    callback(ok_status());
    return;
  }
  LOG_DEBUG("%s barrier %s reached by %s", d.id.c_str(), name.c_str(), instance.c_str());
  if (b.arrived.insert(instance).second) unsaved_.push_back(Row{d.id, name, instance});
  // One waiter per instance: a re-sent arrival replaces the old one.
  b.waiters.erase(std::remove_if(b.waiters.begin(), b.waiters.end(),
                                 [&](const Waiter& w) { return w.instance == instance; }),
                  b.waiters.end());
  b.waiters.push_back(Waiter{instance, scope, deadline_steady, std::move(callback)});
  release_if_satisfied(d, name, b);
}

// Waiters nearly always share one scope, and each check walks the live
// instances: checking each distinct scope once keeps an arrival at a
// barrier of N instances O(N), not O(N^2).
bool BarrierBook::any_satisfied(const Deployment& d, const Barrier& b) const {
  std::vector<const BarrierScope*> checked;
  for (const auto& w : b.waiters) {
    bool seen = std::any_of(checked.begin(), checked.end(), [&](const BarrierScope* s) {
      return s->count == w.scope.count && s->nodes == w.scope.nodes;
    });
    if (seen) continue;
    if (satisfied(d, b, w.scope)) return true;
    checked.push_back(&w.scope);
  }
  return false;
}

void BarrierBook::check(const Deployment& d) {
  auto it = barriers_.find(d.id);
  if (it == barriers_.end()) return;
  for (auto& [name, b] : it->second) {
    if (b.released || b.waiters.empty()) continue;
    release_if_satisfied(d, name, b);
  }
}

void BarrierBook::fail_all(const std::string& deployment, const Error& error) {
  auto it = barriers_.find(deployment);
  if (it == barriers_.end()) return;
  for (auto& [name, b] : it->second) {
    auto waiters = std::move(b.waiters);
    b.waiters.clear();
    for (auto& w : waiters) w.callback(error);
  }
}

void BarrierBook::expire(int64_t now_steady) {
  for (auto& [deployment, barriers] : barriers_) {
    for (auto& [name, b] : barriers) {
      std::vector<Waiter> due;
      for (auto w = b.waiters.begin(); w != b.waiters.end();) {
        if (w->deadline > 0 && w->deadline <= now_steady) {
          due.push_back(std::move(*w));
          w = b.waiters.erase(w);
        } else {
          ++w;
        }
      }
      for (auto& w : due) {
        w.callback(Error(Code::kTimeout, "timed out at barrier " + name + " (" +
                                             std::to_string(b.arrived.size()) + " arrived)"));
      }
    }
  }
}

Status BarrierBook::load(const std::string& deployment) {
  SLIPWAY_ASSIGN_OR_RETURN(auto rows, rows_.all(deployment));
  for (auto& row : rows) {
    Barrier& b = barriers_[deployment][row.name];
    if (row.instance.empty())
      b.released = true;
    else
      b.arrived.insert(std::move(row.instance));
  }
  return ok_status();
}

void BarrierBook::forget(const std::string& deployment) {
  fail_all(deployment, Error(Code::kFailedPrecondition, "the deployment is over"));
  barriers_.erase(deployment);
  unsaved_.erase(std::remove_if(unsaved_.begin(), unsaved_.end(),
                                [&](const Row& row) { return row.deployment == deployment; }),
                 unsaved_.end());
}

}  // namespace slipway::controller
