// Runtime parameters (SPEC section 4): string values of one deployment, kept
// in memory and in the store, copied from outputs into the inputs mapped to
// them, and waited for. A wait is answered when the value is set (or the
// abort flag rises, or its deadline passes), never by polling.
//
// Keys are stored normalized: "web.2:port", node parameters "web:ids",
// deployment parameters "ss:state". Not thread-safe: event loop only.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/store/parameter_store.h"

namespace slipway::controller {

class Store;

// A key as written by a user or a script, taken apart.
struct ParameterName {
  std::string node;   // "web"; "ss" for deployment parameters
  int64_t index = 0;  // 0 for node and deployment parameters
  std::string name;   // "port"

  std::string key() const;  // the normalized form
  std::string instance() const { return index > 0 ? node + "." + std::to_string(index) : ""; }
};

// Parses "web.2:port", "web:port" (instance 1), "web:ids" and
// "web:multiplicity" (node parameters), "ss:state", or a bare "port" (an
// instance's own, when `self` names the instance). kInvalidArgument otherwise.
Result<ParameterName> parse_parameter(const std::string& key, const std::string& self);

class ParameterStore {
 public:
  using Values = std::vector<std::string>;
  using WaitCallback = std::function<void(Result<Values>)>;

  ParameterStore(Store& store, const Clock& clock) : rows_(store), clock_(clock) {}

  // Declares a parameter, unset or with a value. Persists it.
  Status define(const std::string& deployment, const std::string& key,
                const std::optional<std::string>& value);
  // Every set of `source` is copied into `target` (an output mapped to an input).
  void map(const std::string& deployment, const std::string& source, const std::string& target);

  // The value, or nullopt when unset or unknown.
  std::optional<std::string> get(const std::string& deployment, const std::string& key) const;
  bool defined(const std::string& deployment, const std::string& key) const;

  // Sets `key`, then the inputs mapped to it; answers the waits they
  // complete, then persists them. Values are UTF-8, at most 64 KiB; a value
  // refused for that changes nothing.
  //
  // The waits are answered before the commit so that the answers travel
  // while SQLite writes (the commit was a third of a woken get's path). The
  // caller acknowledges the setter only after this returns, so a controller
  // that dies between the two loses nothing: the agent sends every request
  // it has no answer for again after reconnecting. An error here means the
  // value is in effect but could not be stored.
  Status set(const std::string& deployment, const std::string& key, const std::string& value);

  // Every parameter of a deployment whose key matches `glob` (fnmatch), sorted.
  std::vector<std::pair<std::string, std::optional<std::string>>> list(
      const std::string& deployment, const std::string& glob) const;

  // The same, read from the store: for deployments that are over.
  Result<std::vector<std::pair<std::string, std::optional<std::string>>>> list_stored(
      const std::string& deployment, const std::string& glob);

  // Reads a deployment's parameters back from the store (after a restart).
  Status load(const std::string& deployment);
  // Drops a deployment's parameters and waits from memory (it is over).
  void forget(const std::string& deployment);

  // Calls `callback` once: with the values of `keys` when all are set (at
  // once if they already are), with kTimeout when `deadline_steady` passes
  // (0: never), or with the error given to fail_waits().
  uint64_t wait(const std::string& deployment, std::vector<std::string> keys,
                int64_t deadline_steady, WaitCallback callback);
  void cancel(uint64_t wait_id);
  // Answers every wait of a deployment with `error` (its abort flag rose).
  void fail_waits(const std::string& deployment, const Error& error);
  // Answers the waits whose deadline has passed.
  void expire(int64_t now_steady);
  size_t waits() const { return waits_.size(); }

 private:
  struct Wait {
    std::string deployment;
    std::vector<std::string> keys;
    int64_t deadline = 0;
    WaitCallback callback;
  };
  void wake(const std::string& deployment, const std::string& key);
  bool complete(const Wait& wait, Values* values) const;
  void finish(uint64_t id, Result<Values> result);

  ParameterRows rows_;
  const Clock& clock_;
  // deployment -> key -> value (nullopt: defined, unset)
  std::map<std::string, std::map<std::string, std::optional<std::string>>> values_;
  // deployment -> source key -> target keys
  std::map<std::string, std::map<std::string, std::set<std::string>>> mappings_;
  std::map<uint64_t, Wait> waits_;
  std::map<std::pair<std::string, std::string>, std::set<uint64_t>>
      waiting_on_;  // (deployment, key)
  std::multimap<int64_t, uint64_t> deadlines_;
  uint64_t next_wait_ = 1;
};

}  // namespace slipway::controller
