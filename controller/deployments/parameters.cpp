#include "controller/deployments/parameters.h"

#include <fnmatch.h>

#include "common/protocol.h"
#include "common/value.h"
#include "controller/catalog/module.h"

namespace slipway::controller {

std::string ParameterName::key() const {
  return (index > 0 ? node + "." + std::to_string(index) : node) + ":" + name;
}

Result<ParameterName> parse_parameter(const std::string& key, const std::string& self) {
  auto invalid = [&](const std::string& why) {
    return Error(Code::kInvalidArgument, "\"" + key + "\" is not a parameter name: " + why);
  };
  ParameterName p;
  size_t colon = key.find(':');
  if (colon == std::string::npos) {
    if (self.empty()) return invalid("name it NODE:KEY or NODE.N:KEY");
    size_t dot = self.find('.');
    if (dot == std::string::npos) return invalid("this agent is not an instance of a deployment");
    p.node = self.substr(0, dot);
    p.index = std::atoll(self.c_str() + dot + 1);
    p.name = key;
  } else {
    std::string left = key.substr(0, colon);
    p.name = key.substr(colon + 1);
    size_t dot = left.find('.');
    p.node = left.substr(0, dot);
    if (dot != std::string::npos) {
      std::string digits = left.substr(dot + 1);
      if (digits.empty() || digits.size() > 6 || digits[0] == '0' ||
          digits.find_first_not_of("0123456789") != std::string::npos) {
        return invalid("the instance number after the dot must be 1 or more");
      }
      p.index = std::stoll(digits);
    }
    if (p.node == "ss") {
      if (p.index != 0) return invalid("ss parameters belong to the whole deployment");
    } else if (!valid_node_name(p.node)) {
      return invalid("\"" + p.node + "\" is not a node name");
    } else if (p.index == 0) {
      bool node_level = false;
      for (const char* n : kNodeParameters) node_level = node_level || p.name == n;
      if (!node_level) p.index = 1;  // "web:port" is "web.1:port"
    }
  }
  if (!valid_parameter_name(p.name)) return invalid("\"" + p.name + "\" is not a parameter name");
  return p;
}

Status ParameterStore::define(const std::string& deployment, const std::string& key,
                              const std::optional<std::string>& value) {
  SLIPWAY_RETURN_IF_ERROR(rows_.put(deployment, key, value, clock_.wall_ms()));
  values_[deployment][key] = value;
  return ok_status();
}

void ParameterStore::map(const std::string& deployment, const std::string& source,
                         const std::string& target) {
  mappings_[deployment][source].insert(target);
}

std::optional<std::string> ParameterStore::get(const std::string& deployment,
                                               const std::string& key) const {
  auto d = values_.find(deployment);
  if (d == values_.end()) return std::nullopt;
  auto it = d->second.find(key);
  return it == d->second.end() ? std::nullopt : it->second;
}

bool ParameterStore::defined(const std::string& deployment, const std::string& key) const {
  auto d = values_.find(deployment);
  return d != values_.end() && d->second.count(key) > 0;
}

Status ParameterStore::set(const std::string& deployment, const std::string& key,
                           const std::string& value) {
  if (value.size() > proto::kMaxValueSize) {
    return Error(Code::kInvalidArgument,
                 "a parameter value may hold at most 64 KiB; this one has " +
                     std::to_string(value.size()) + " bytes");
  }
  if (!is_valid_utf8(value))
    return Error(Code::kInvalidArgument, "a parameter value must be UTF-8 text");
  std::vector<std::string> changed = {key};
  auto mapped = mappings_.find(deployment);
  if (mapped != mappings_.end()) {
    auto targets = mapped->second.find(key);
    if (targets != mapped->second.end())
      changed.insert(changed.end(), targets->second.begin(), targets->second.end());
  }
  for (const auto& k : changed) values_[deployment][k] = value;
  for (const auto& k : changed) wake(deployment, k);
  return rows_.put_all(deployment, changed, value, clock_.wall_ms());
}

std::vector<std::pair<std::string, std::optional<std::string>>> ParameterStore::list(
    const std::string& deployment, const std::string& glob) const {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  auto d = values_.find(deployment);
  if (d == values_.end()) return out;
  for (const auto& [key, value] : d->second) {
    if (glob.empty() || fnmatch(glob.c_str(), key.c_str(), 0) == 0) out.emplace_back(key, value);
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::optional<std::string>>>> ParameterStore::list_stored(
    const std::string& deployment, const std::string& glob) {
  SLIPWAY_ASSIGN_OR_RETURN(auto rows, rows_.all(deployment));
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  for (auto& row : rows) {
    if (!glob.empty() && fnmatch(glob.c_str(), row.key.c_str(), 0) != 0) continue;
    out.emplace_back(std::move(row.key), std::move(row.value));
  }
  return out;
}

Status ParameterStore::load(const std::string& deployment) {
  SLIPWAY_ASSIGN_OR_RETURN(auto rows, rows_.all(deployment));
  auto& values = values_[deployment];
  for (auto& row : rows) values[std::move(row.key)] = std::move(row.value);
  return ok_status();
}

void ParameterStore::forget(const std::string& deployment) {
  fail_waits(deployment, Error(Code::kFailedPrecondition, "the deployment is over"));
  values_.erase(deployment);
  mappings_.erase(deployment);
}

bool ParameterStore::complete(const Wait& wait, Values* values) const {
  values->clear();
  for (const auto& key : wait.keys) {
    auto value = get(wait.deployment, key);
    if (!value) return false;
    values->push_back(*value);
  }
  return true;
}

uint64_t ParameterStore::wait(const std::string& deployment, std::vector<std::string> keys,
                              int64_t deadline_steady, WaitCallback callback) {
  uint64_t id = next_wait_++;
  Wait w{deployment, std::move(keys), deadline_steady, std::move(callback)};
  Values values;
  if (complete(w, &values)) {
    w.callback(std::move(values));
    return id;
  }
  for (const auto& key : w.keys) waiting_on_[{deployment, key}].insert(id);
  if (deadline_steady > 0) deadlines_.emplace(deadline_steady, id);
  waits_.emplace(id, std::move(w));
  return id;
}

void ParameterStore::finish(uint64_t id, Result<Values> result) {
  auto it = waits_.find(id);
  if (it == waits_.end()) return;
  Wait w = std::move(it->second);
  waits_.erase(it);
  for (const auto& key : w.keys) {
    auto slot = waiting_on_.find({w.deployment, key});
    if (slot == waiting_on_.end()) continue;
    slot->second.erase(id);
    if (slot->second.empty()) waiting_on_.erase(slot);
  }
  w.callback(std::move(result));
}

void ParameterStore::cancel(uint64_t id) {
  auto it = waits_.find(id);
  if (it == waits_.end()) return;
  it->second.callback = [](Result<Values>) {};
  finish(id, Error(Code::kAborted, "cancelled"));
}

void ParameterStore::wake(const std::string& deployment, const std::string& key) {
  auto slot = waiting_on_.find({deployment, key});
  if (slot == waiting_on_.end()) return;
  std::vector<uint64_t> ids(slot->second.begin(), slot->second.end());
  for (uint64_t id : ids) {
    auto it = waits_.find(id);
    if (it == waits_.end()) continue;
    Values values;
    if (complete(it->second, &values)) finish(id, std::move(values));
  }
}

void ParameterStore::fail_waits(const std::string& deployment, const Error& error) {
  std::vector<uint64_t> ids;
  for (const auto& [id, w] : waits_) {
    if (w.deployment == deployment) ids.push_back(id);
  }
  for (uint64_t id : ids) finish(id, error);
}

void ParameterStore::expire(int64_t now_steady) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now_steady) {
    uint64_t id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    finish(id, Error(Code::kTimeout, "timed out waiting for the value"));
  }
}

}  // namespace slipway::controller
