// Named barriers (ss-barrier NAME): an instance that reaches one blocks until
// every live instance of the deployment, or the --count N or --nodes a,b
// named, has reached it; then all are released at once. A released barrier
// stays released, so an instance that re-sends its arrival after a reconnect
// passes at once. Arrivals and releases are kept in the store.
//
// Arrivals are written in groups: one commit for all that came in together,
// not one each (100 instances reaching a barrier at once were 100 commits on
// the controller's thread just as it had most to do). An arrival waits in
// memory until save(), which the controller runs once its event loop has
// handled what was ready, and which a release runs before its first answer:
// no instance is released before every arrival that released it is stored.
//
// Not thread-safe: event loop only.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "controller/store/barrier_store.h"

namespace slipway::controller {

class Store;
struct Deployment;

struct BarrierScope {
  int64_t count = 0;               // 0: not by count
  std::vector<std::string> nodes;  // empty: every node
};

class BarrierBook {
 public:
  using Callback = std::function<void(Status)>;

  explicit BarrierBook(Store& store) : rows_(store) {}

  // `instance` reaches barrier `name`. `callback` runs once: ok when the
  // barrier is released (at once if it already was), kTimeout at the
  // deadline (0: never), or the error given to fail_all().
  void arrive(const Deployment& deployment, const std::string& name, const std::string& instance,
              const BarrierScope& scope, int64_t deadline_steady, Callback callback);
  // Releases what the live instances of `deployment` now satisfy (call when
  // instances are dropped or lost).
  void check(const Deployment& deployment);
  void fail_all(const std::string& deployment, const Error& error);
  void expire(int64_t now_steady);
  Status load(const std::string& deployment);
  void forget(const std::string& deployment);

  // True when arrivals wait to be written.
  bool unsaved() const { return !unsaved_.empty(); }
  // Writes the arrivals waiting, in one transaction. One that cannot be
  // written is undone: it no longer counts, and its instance gets the error.
  void save();

 private:
  struct Waiter {
    std::string instance;
    BarrierScope scope;
    int64_t deadline = 0;
    Callback callback;
  };
  struct Barrier {
    std::set<std::string> arrived;
    bool released = false;
    std::vector<Waiter> waiters;
  };
  bool satisfied(const Deployment& deployment, const Barrier& barrier,
                 const BarrierScope& scope) const;
  bool any_satisfied(const Deployment& deployment, const Barrier& barrier) const;
  void release_if_satisfied(const Deployment& deployment, const std::string& name,
                            Barrier& barrier);
  void release(const std::string& deployment, const std::string& name, Barrier& barrier);
  // An arrival, or with no instance a release.
  using Row = BarrierRow;
  void undo(const Row& arrival, const Error& error);

  BarrierRows rows_;
  std::map<std::string, std::map<std::string, Barrier>> barriers_;  // deployment -> name -> barrier
  std::vector<Row> unsaved_;                                        // arrivals not written yet
};

}  // namespace slipway::controller
