#include "controller/barriers.h"

#include <algorithm>

#include "common/log.h"
#include "controller/deployment.h"
#include "controller/store.h"

namespace slipway::controller {

Status BarrierBook::persist(const std::string& deployment, const std::string& name,
                            const std::string& instance) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare(
                     "INSERT OR IGNORE INTO barriers(deployment, name, instance) VALUES(?,?,?)"));
  return stmt.bind(1, deployment).bind(2, name).bind(3, instance).run();
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

void BarrierBook::release(const std::string& deployment, const std::string& name, Barrier& b) {
  b.released = true;
  // Answered first, recorded after: the answers travel while SQLite writes.
  // A controller that dies in between has every arrival stored, so the
  // agents' re-sent arrivals release the barrier again.
  auto waiters = std::move(b.waiters);
  b.waiters.clear();
  for (auto& w : waiters) w.callback(ok_status());
  Status saved = persist(deployment, name, "");
  if (!saved.ok())
    LOG_ERROR("cannot record the release of barrier %s: %s", name.c_str(),
              saved.error().message().c_str());
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
  if (b.arrived.insert(instance).second) {
    Status saved = persist(d.id, name, instance);
    if (!saved.ok()) {
      callback(saved.error());
      return;
    }
  }
  // One waiter per instance: a re-sent arrival replaces the old one.
  b.waiters.erase(std::remove_if(b.waiters.begin(), b.waiters.end(),
                                 [&](const Waiter& w) { return w.instance == instance; }),
                  b.waiters.end());
  b.waiters.push_back(Waiter{instance, scope, deadline_steady, std::move(callback)});
  if (any_satisfied(d, b)) release(d.id, name, b);
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
    if (any_satisfied(d, b)) release(d.id, name, b);
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
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare("SELECT name, instance FROM barriers WHERE deployment=?"));
  stmt.bind(1, deployment);
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    Barrier& b = barriers_[deployment][stmt.column_text(0)];
    std::string instance = stmt.column_text(1);
    if (instance.empty())
      b.released = true;
    else
      b.arrived.insert(instance);
  }
  return ok_status();
}

void BarrierBook::forget(const std::string& deployment) {
  fail_all(deployment, Error(Code::kFailedPrecondition, "the deployment is over"));
  barriers_.erase(deployment);
}

}  // namespace slipway::controller
