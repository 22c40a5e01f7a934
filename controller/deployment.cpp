#include "controller/deployment.h"

#include <algorithm>

#include "common/log.h"
#include "controller/sqlite.h"
#include "controller/store.h"
namespace slipway::controller {
#include "common/log.h"
namespace {
#include "common/log.h"
constexpr const char* kStateNames[] = {"Initializing",   "Provisioning", "Executing",
#include "common/log.h"
                                       "SendingReports", "Ready",        "Finalizing",
#include "common/log.h"
                                       "Done",           "Aborted",      "Cancelled"};
#include "common/log.h"
constexpr const char* kKeepRunningNames[] = {"always", "on-success", "on-error", "never"};
#include "common/log.h"
constexpr const char* kStatusNames[] = {"pending", "launching", "booting",   "running",
#include "common/log.h"
                                        "lost",    "failed",    "terminated"};
#include "common/log.h"
template <typename E, size_t N>
#include "common/log.h"
bool parse_enum(const char* const (&names)[N], const std::string& name, E* out) {
#include "common/log.h"
  for (size_t i = 0; i < N; ++i) {
#include "common/log.h"
    if (name == names[i]) {
#include "common/log.h"
      *out = static_cast<E>(i);
#include "common/log.h"
      return true;
#include "common/log.h"
    }
#include "common/log.h"
  }
#include "common/log.h"
  return false;
#include "common/log.h"
}
#include "common/log.h"
Value strings(const std::vector<std::string>& list) {
#include "common/log.h"
  Value out = Value::array();
#include "common/log.h"
  for (const auto& s : list) out.push(s);
#include "common/log.h"
  return out;
#include "common/log.h"
}
#include "common/log.h"
std::vector<std::string> strings_of(const Value& v) {
#include "common/log.h"
  std::vector<std::string> out;
#include "common/log.h"
  for (const auto& item : v.items()) out.push_back(item.str());
#include "common/log.h"
  return out;
#include "common/log.h"
}
#include "common/log.h"
Value step_value(const proto::Step& s) {
#include "common/log.h"
  return Value::object()
#include "common/log.h"
      .set("id", s.id)
#include "common/log.h"
      .set("state", s.state)
#include "common/log.h"
      .set("kind", s.kind)
#include "common/log.h"
      .set("name", s.name)
#include "common/log.h"
      .set("module", s.module)
#include "common/log.h"
      .set("body", s.body)
#include "common/log.h"
      .set("packages", strings(s.packages));
#include "common/log.h"
}
#include "common/log.h"
proto::Step step_of(const Value& v) {
#include "common/log.h"
  proto::Step s;
#include "common/log.h"
  s.id = v["id"].str();
#include "common/log.h"
  s.state = v["state"].str();
#include "common/log.h"
  s.kind = v["kind"].str();
#include "common/log.h"
  s.name = v["name"].str();
#include "common/log.h"
  s.module = v["module"].str();
#include "common/log.h"
  s.body = v["body"].str();
#include "common/log.h"
  s.packages = strings_of(v["packages"]);
#include "common/log.h"
  return s;
#include "common/log.h"
}
#include "common/log.h"
std::string join_lines(const std::set<std::string>& items) {
#include "common/log.h"
  std::string out;
#include "common/log.h"
  for (const auto& s : items) out += s + "\n";
#include "common/log.h"
  return out;
#include "common/log.h"
}
#include "common/log.h"
std::set<std::string> split_lines(const std::string& text) {
#include "common/log.h"
  std::set<std::string> out;
#include "common/log.h"
  size_t start = 0;
#include "common/log.h"
  while (start < text.size()) {
#include "common/log.h"
    size_t end = text.find('\n', start);
#include "common/log.h"
    if (end == std::string::npos) end = text.size();
#include "common/log.h"
    if (end > start) out.insert(text.substr(start, end - start));
#include "common/log.h"
    start = end + 1;
#include "common/log.h"
  }
#include "common/log.h"
  return out;
#include "common/log.h"
}
#include "common/log.h"
}  // namespace
#include "common/log.h"
const char* state_name(DeploymentState state) {
#include "common/log.h"
  return kStateNames[static_cast<int>(state)];
#include "common/log.h"
}
#include "common/log.h"
bool parse_state(const std::string& name, DeploymentState* state) {
#include "common/log.h"
  return parse_enum(kStateNames, name, state);
#include "common/log.h"
}
#include "common/log.h"
bool is_final(DeploymentState s) {
#include "common/log.h"
  return s == DeploymentState::kDone || s == DeploymentState::kAborted ||
#include "common/log.h"
         s == DeploymentState::kCancelled;
#include "common/log.h"
}
#include "common/log.h"
bool is_transient(DeploymentState s) {
#include "common/log.h"
  return s != DeploymentState::kReady && !is_final(s);
#include "common/log.h"
}
#include "common/log.h"
const char* keep_running_name(KeepRunning p) {
#include "common/log.h"
  return kKeepRunningNames[static_cast<int>(p)];
#include "common/log.h"
}
#include "common/log.h"
bool parse_keep_running(const std::string& name, KeepRunning* p) {
#include "common/log.h"
  return parse_enum(kKeepRunningNames, name, p);
#include "common/log.h"
}
#include "common/log.h"
const char* status_name(InstanceStatus s) {
#include "common/log.h"
  return kStatusNames[static_cast<int>(s)];
#include "common/log.h"
}
#include "common/log.h"
bool parse_status(const std::string& name, InstanceStatus* s) {
#include "common/log.h"
  return parse_enum(kStatusNames, name, s);
#include "common/log.h"
}
#include "common/log.h"
bool is_live(InstanceStatus s) {
#include "common/log.h"
  return s != InstanceStatus::kLost && s != InstanceStatus::kFailed &&
#include "common/log.h"
         s != InstanceStatus::kTerminated;
#include "common/log.h"
}
#include "common/log.h"
Value NodePlan::to_value() const {
#include "common/log.h"
  Value steps = Value::array();
#include "common/log.h"
  for (const auto& s : plan.steps) steps.push(step_value(s));
#include "common/log.h"
  Value scale = Value::array();
#include "common/log.h"
  for (const auto& s : on_scale) scale.push(step_value(s));
#include "common/log.h"
  Value env = Value::object();
#include "common/log.h"
  for (const auto& [k, v] : plan.env) env.set(k, v);
#include "common/log.h"
  Value binds = Value::object();
#include "common/log.h"
  for (const auto& [input, b] : bindings) {
#include "common/log.h"
    binds.set(input, Value::object()
#include "common/log.h"
                         .set("literal", b.literal)
#include "common/log.h"
                         .set("value", b.value)
#include "common/log.h"
                         .set("node", b.node)
#include "common/log.h"
                         .set("instance", b.instance)
#include "common/log.h"
                         .set("parameter", b.parameter));
#include "common/log.h"
  }
#include "common/log.h"
  return Value::object()
#include "common/log.h"
      .set("name", name)
#include "common/log.h"
      .set("image", image)
#include "common/log.h"
      .set("chain", strings(chain))
#include "common/log.h"
      .set("cloud", cloud)
#include "common/log.h"
      .set("multiplicity", multiplicity)
#include "common/log.h"
      .set("max_provisioning_failures", max_provisioning_failures)
#include "common/log.h"
      .set("platform", plan.platform)
#include "common/log.h"
      .set("steps", steps)
#include "common/log.h"
      .set("env", env)
#include "common/log.h"
      .set("on_scale", scale)
#include "common/log.h"
      .set("reference", reference)
#include "common/log.h"
      .set("resources", Value::object()
#include "common/log.h"
                            .set("cpus", resources.cpus)
#include "common/log.h"
                            .set("memory_mb", resources.memory_mb)
#include "common/log.h"
                            .set("disk_gb", resources.disk_gb))
#include "common/log.h"
      .set("inputs", strings(inputs))
#include "common/log.h"
      .set("outputs", strings(outputs))
#include "common/log.h"
      .set("bindings", binds);
#include "common/log.h"
}
#include "common/log.h"
Result<NodePlan> NodePlan::from_value(const Value& v) {
#include "common/log.h"
  if (!v.is_object() || !v["name"].is_string()) {
#include "common/log.h"
    return Error(Code::kInternal, "a stored node plan is malformed");
#include "common/log.h"
  }
#include "common/log.h"
  NodePlan n;
#include "common/log.h"
  n.name = v["name"].str();
#include "common/log.h"
  n.image = v["image"].str();
#include "common/log.h"
  n.chain = strings_of(v["chain"]);
#include "common/log.h"
  n.cloud = v["cloud"].str();
#include "common/log.h"
  n.multiplicity = v["multiplicity"].as_int(1);
#include "common/log.h"
  n.max_provisioning_failures = v["max_provisioning_failures"].as_int();
#include "common/log.h"
  n.plan.platform = v["platform"].str();
#include "common/log.h"
  for (const auto& s : v["steps"].items()) n.plan.steps.push_back(step_of(s));
#include "common/log.h"
  for (const auto& [k, val] : v["env"].fields()) n.plan.env[k] = val.str();
#include "common/log.h"
  for (const auto& s : v["on_scale"].items()) n.on_scale.push_back(step_of(s));
#include "common/log.h"
  n.reference = v["reference"];
#include "common/log.h"
  n.resources.cpus = v["resources"]["cpus"].as_int(1);
#include "common/log.h"
  n.resources.memory_mb = v["resources"]["memory_mb"].as_int(512);
#include "common/log.h"
  n.resources.disk_gb = v["resources"]["disk_gb"].as_int(4);
#include "common/log.h"
  n.inputs = strings_of(v["inputs"]);
#include "common/log.h"
  n.outputs = strings_of(v["outputs"]);
#include "common/log.h"
  for (const auto& [input, b] : v["bindings"].fields()) {
#include "common/log.h"
    InputBinding binding;
#include "common/log.h"
    binding.literal = b["literal"].as_bool();
#include "common/log.h"
    binding.value = b["value"].str();
#include "common/log.h"
    binding.node = b["node"].str();
#include "common/log.h"
    binding.instance = b["instance"].str();
#include "common/log.h"
    binding.parameter = b["parameter"].str();
#include "common/log.h"
    n.bindings[input] = binding;
#include "common/log.h"
  }
#include "common/log.h"
  return n;
#include "common/log.h"
}
#include "common/log.h"
const NodePlan* Deployment::node(const std::string& name) const {
#include "common/log.h"
  for (const auto& n : nodes) {
#include "common/log.h"
    if (n.name == name) return &n;
#include "common/log.h"
  }
#include "common/log.h"
  return nullptr;
#include "common/log.h"
}
#include "common/log.h"
std::vector<const Instance*> Deployment::live(const std::string& node_name) const {
#include "common/log.h"
  std::vector<const Instance*> out;
#include "common/log.h"
  for (const auto& [name, instance] : instances) {
#include "common/log.h"
    if (is_live(instance.status) && (node_name.empty() || instance.node == node_name)) {
#include "common/log.h"
      out.push_back(&instance);
#include "common/log.h"
    }
#include "common/log.h"
  }
#include "common/log.h"
  return out;
#include "common/log.h"
}
#include "common/log.h"
std::string Deployment::ids(const std::string& node_name) const {
#include "common/log.h"
  std::vector<int64_t> indexes;
#include "common/log.h"
  for (const Instance* i : live(node_name)) indexes.push_back(i->index);
#include "common/log.h"
  std::sort(indexes.begin(), indexes.end());
#include "common/log.h"
  std::string out;
#include "common/log.h"
  for (int64_t i : indexes) out += (out.empty() ? "" : ",") + std::to_string(i);
#include "common/log.h"
  return out;
#include "common/log.h"
}
#include "common/log.h"
// ------------------------------------------------------------------ store
#include "common/log.h"
namespace {
#include "common/log.h"
constexpr const char* kDeploymentColumns =
#include "common/log.h"
    "id, module, owner_uid, owner_name, state, aborted, abort_reason, keep_running, timeout_ms, "
#include "common/log.h"
    "created_at, state_since, reached_ready, terminate_requested, ended_at, spec";
#include "common/log.h"
}  // namespace
#include "common/log.h"
Status DeploymentStore::insert(const Deployment& d) {
#include "common/log.h"
  Value spec = Value::array();
#include "common/log.h"
  for (const auto& n : d.nodes) spec.push(n.to_value());
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(
#include "common/log.h"
      auto stmt, store_.db().prepare(std::string("INSERT INTO deployments(") + kDeploymentColumns +
#include "common/log.h"
                                     ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
#include "common/log.h"
  stmt.bind(1, d.id)
#include "common/log.h"
      .bind(2, d.module)
#include "common/log.h"
      .bind(3, static_cast<int64_t>(d.owner_uid))
#include "common/log.h"
      .bind(4, d.owner_name)
#include "common/log.h"
      .bind(5, state_name(d.state))
#include "common/log.h"
      .bind(6, int64_t{d.aborted})
#include "common/log.h"
      .bind(7, d.abort_reason)
#include "common/log.h"
      .bind(8, keep_running_name(d.keep_running))
#include "common/log.h"
      .bind(9, d.timeout_ms)
#include "common/log.h"
      .bind(10, d.created_at)
#include "common/log.h"
      .bind(11, d.state_since)
#include "common/log.h"
      .bind(12, int64_t{d.reached_ready})
#include "common/log.h"
      .bind(13, int64_t{d.terminate_requested})
#include "common/log.h"
      .bind(14, d.ended_at)
#include "common/log.h"
      .bind_blob(15, spec.pack());
#include "common/log.h"
  SLIPWAY_RETURN_IF_ERROR(stmt.run());
#include "common/log.h"
  for (const auto& [name, instance] : d.instances)
#include "common/log.h"
    SLIPWAY_RETURN_IF_ERROR(insert_instance(d.id, instance));
#include "common/log.h"
  return ok_status();
#include "common/log.h"
}
#include "common/log.h"
Status DeploymentStore::save_state(const Deployment& d) {
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
#include "common/log.h"
                           store_.db().prepare("UPDATE deployments SET state=?, aborted=?, "
#include "common/log.h"
                                               "abort_reason=?, state_since=?, reached_ready=?, "
#include "common/log.h"
                                               "terminate_requested=?, ended_at=? WHERE id=?"));
#include "common/log.h"
  return stmt
      .bind(1, state_name(d.state))
#include "common/log.h"
      .bind(2, int64_t{d.aborted})
#include "common/log.h"
      .bind(3, d.abort_reason)
#include "common/log.h"
      .bind(4, d.state_since)
#include "common/log.h"
      .bind(5, int64_t{d.reached_ready})
#include "common/log.h"
      .bind(6, int64_t{d.terminate_requested})
#include "common/log.h"
      .bind(7, d.ended_at)
#include "common/log.h"
      .bind(8, d.id)
#include "common/log.h"
      .run();
#include "common/log.h"
}
#include "common/log.h"
Status DeploymentStore::insert_instance(const std::string& deployment, const Instance& i) {
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(
#include "common/log.h"
      auto stmt,
#include "common/log.h"
      store_.db().prepare(
#include "common/log.h"
          "INSERT INTO instances(deployment, name, node, idx, cloud, machine_id, public_key, "
#include "common/log.h"
          "status, "
#include "common/log.h"
          "address, phase, state_done, error, completed) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"));
#include "common/log.h"
  return stmt
      .bind(1, deployment)
#include "common/log.h"
      .bind(2, i.name)
#include "common/log.h"
      .bind(3, i.node)
#include "common/log.h"
      .bind(4, i.index)
#include "common/log.h"
      .bind(5, i.cloud)
#include "common/log.h"
      .bind(6, i.machine_id)
#include "common/log.h"
      .bind(7, i.public_key)
#include "common/log.h"
      .bind(8, status_name(i.status))
#include "common/log.h"
      .bind(9, i.address)
#include "common/log.h"
      .bind(10, i.phase)
#include "common/log.h"
      .bind(11, i.state_done)
#include "common/log.h"
      .bind(12, i.error)
#include "common/log.h"
      .bind(13, join_lines(i.completed))
#include "common/log.h"
      .run();
#include "common/log.h"
}
#include "common/log.h"
Status DeploymentStore::save_instance(const std::string& deployment, const Instance& i) {
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(
#include "common/log.h"
      auto stmt,
#include "common/log.h"
      store_.db().prepare(
#include "common/log.h"
          "UPDATE instances SET status=?, address=?, phase=?, state_done=?, error=?, completed=?, "
#include "common/log.h"
          "public_key=? WHERE deployment=? AND name=?"));
#include "common/log.h"
  return stmt
      .bind(1, status_name(i.status))
#include "common/log.h"
      .bind(2, i.address)
#include "common/log.h"
      .bind(3, i.phase)
#include "common/log.h"
      .bind(4, i.state_done)
#include "common/log.h"
      .bind(5, i.error)
#include "common/log.h"
      .bind(6, join_lines(i.completed))
#include "common/log.h"
      .bind(7, i.public_key)
#include "common/log.h"
      .bind(8, deployment)
#include "common/log.h"
      .bind(9, i.name)
#include "common/log.h"
      .run();
#include "common/log.h"
}
#include "common/log.h"
Result<Deployment> DeploymentStore::read_row(sql::Statement& stmt) {
#include "common/log.h"
  Deployment d;
#include "common/log.h"
  d.id = stmt.column_text(0);
#include "common/log.h"
  d.module = stmt.column_text(1);
#include "common/log.h"
  d.owner_uid = static_cast<uid_t>(stmt.column_int(2));
#include "common/log.h"
  d.owner_name = stmt.column_text(3);
#include "common/log.h"
  if (!parse_state(stmt.column_text(4), &d.state)) {
#include "common/log.h"
    return Error(Code::kInternal, "deployment " + d.id + " has an unknown state in the store");
#include "common/log.h"
  }
#include "common/log.h"
  d.aborted = stmt.column_int(5) != 0;
#include "common/log.h"
  d.abort_reason = stmt.column_text(6);
#include "common/log.h"
  parse_keep_running(stmt.column_text(7), &d.keep_running);
#include "common/log.h"
  d.timeout_ms = stmt.column_int(8);
#include "common/log.h"
  d.created_at = stmt.column_int(9);
#include "common/log.h"
  d.state_since = stmt.column_int(10);
#include "common/log.h"
  d.reached_ready = stmt.column_int(11) != 0;
#include "common/log.h"
  d.terminate_requested = stmt.column_int(12) != 0;
#include "common/log.h"
  d.ended_at = stmt.column_int(13);
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(Value spec, Value::unpack(stmt.column_text(14)));
#include "common/log.h"
  for (const auto& node : spec.items()) {
#include "common/log.h"
    SLIPWAY_ASSIGN_OR_RETURN(NodePlan plan, NodePlan::from_value(node));
#include "common/log.h"
    d.nodes.push_back(std::move(plan));
#include "common/log.h"
  }
#include "common/log.h"
  return d;
#include "common/log.h"
}
#include "common/log.h"
Status DeploymentStore::load_instances(Deployment* d) {
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(
#include "common/log.h"
      auto stmt, store_.db().prepare("SELECT name, node, idx, cloud, machine_id, public_key, "
#include "common/log.h"
                                     "status, address, phase, state_done, "
#include "common/log.h"
                                     "error, completed FROM instances WHERE deployment=?"));
#include "common/log.h"
  stmt.bind(1, d->id);
#include "common/log.h"
  for (;;) {
#include "common/log.h"
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
#include "common/log.h"
    if (!row) break;
#include "common/log.h"
    Instance i;
#include "common/log.h"
    i.name = stmt.column_text(0);
#include "common/log.h"
    i.node = stmt.column_text(1);
#include "common/log.h"
    i.index = stmt.column_int(2);
#include "common/log.h"
    i.cloud = stmt.column_text(3);
#include "common/log.h"
    i.machine_id = stmt.column_text(4);
#include "common/log.h"
    i.public_key = stmt.column_text(5);
#include "common/log.h"
    parse_status(stmt.column_text(6), &i.status);
#include "common/log.h"
    i.address = stmt.column_text(7);
#include "common/log.h"
    i.phase = stmt.column_text(8);
#include "common/log.h"
    i.state_done = stmt.column_text(9);
#include "common/log.h"
    i.error = stmt.column_text(10);
#include "common/log.h"
    i.completed = split_lines(stmt.column_text(11));
#include "common/log.h"
    d->instances[i.name] = std::move(i);
#include "common/log.h"
  }
#include "common/log.h"
  return ok_status();
#include "common/log.h"
}
#include "common/log.h"
Result<std::vector<Deployment>> DeploymentStore::read_all(sql::Statement& stmt) {
#include "common/log.h"
  std::vector<Deployment> out;
#include "common/log.h"
  for (;;) {
#include "common/log.h"
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
#include "common/log.h"
    if (!row) break;
#include "common/log.h"
    auto d = read_row(stmt);
#include "common/log.h"
    if (!d.ok()) {
#include "common/log.h"
      // One damaged row must not hide the others, nor stop slipwayd at start.
#include "common/log.h"
      LOG_ERROR("deployment %s cannot be read from the store and is left out: %s",
#include "common/log.h"
                stmt.column_text(0).c_str(), d.error().message().c_str());
#include "common/log.h"
      continue;
#include "common/log.h"
    }
#include "common/log.h"
    out.push_back(std::move(*d));
#include "common/log.h"
  }
#include "common/log.h"
  for (auto& d : out) SLIPWAY_RETURN_IF_ERROR(load_instances(&d));
#include "common/log.h"
  return out;
#include "common/log.h"
}
#include "common/log.h"
Result<std::vector<Deployment>> DeploymentStore::load_active() {
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(
#include "common/log.h"
      auto stmt, store_.db().prepare(std::string("SELECT ") + kDeploymentColumns +
#include "common/log.h"
                                     " FROM deployments WHERE state NOT IN "
#include "common/log.h"
                                     "('Done','Aborted','Cancelled') ORDER BY created_at"));
#include "common/log.h"
  return read_all(stmt);
#include "common/log.h"
}
#include "common/log.h"
Result<std::optional<Deployment>> DeploymentStore::load(const std::string& id) {
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
#include "common/log.h"
                           store_.db().prepare(std::string("SELECT ") + kDeploymentColumns +
#include "common/log.h"
                                               " FROM deployments WHERE id=?"));
#include "common/log.h"
  stmt.bind(1, id);
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
#include "common/log.h"
  if (!row) return std::optional<Deployment>();
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(Deployment d, read_row(stmt));
#include "common/log.h"
  SLIPWAY_RETURN_IF_ERROR(load_instances(&d));
#include "common/log.h"
  return std::optional<Deployment>(std::move(d));
#include "common/log.h"
}
#include "common/log.h"
Result<std::vector<Deployment>> DeploymentStore::list(int64_t owner_uid) {
#include "common/log.h"
  SLIPWAY_ASSIGN_OR_RETURN(
#include "common/log.h"
      auto stmt, store_.db().prepare(
#include "common/log.h"
                     std::string("SELECT ") + kDeploymentColumns +
#include "common/log.h"
                     " FROM deployments WHERE (?1 < 0 OR owner_uid = ?1) ORDER BY created_at"));
#include "common/log.h"
  stmt.bind(1, owner_uid);
#include "common/log.h"
  return read_all(stmt);
#include "common/log.h"
}
#include "common/log.h"
}  // namespace slipway::controller
