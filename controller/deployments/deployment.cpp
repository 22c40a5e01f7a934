#include "controller/deployments/deployment.h"

#include <algorithm>

#include "common/log.h"
#include "controller/store/sqlite.h"
#include "controller/store/store.h"

namespace slipway::controller {
namespace {
constexpr const char* kStateNames[] = {"Initializing",   "Provisioning", "Executing",
                                       "SendingReports", "Ready",        "Finalizing",
                                       "Done",           "Aborted",      "Cancelled"};
constexpr const char* kKeepRunningNames[] = {"always", "on-success", "on-error", "never"};
constexpr const char* kStatusNames[] = {"pending", "launching", "booting",   "running",
                                        "lost",    "failed",    "terminated"};

template <typename E, size_t N>
bool parse_enum(const char* const (&names)[N], const std::string& name, E* out) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) {
      *out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

Value strings(const std::vector<std::string>& list) {
  Value out = Value::array();
  for (const auto& s : list) out.push(s);
  return out;
}

std::vector<std::string> strings_of(const Value& v) {
  std::vector<std::string> out;
  for (const auto& item : v.items()) out.push_back(item.str());
  return out;
}

Value step_value(const proto::Step& s) {
  return Value::object()
      .set("id", s.id)
      .set("state", s.state)
      .set("kind", s.kind)
      .set("name", s.name)
      .set("module", s.module)
      .set("body", s.body)
      .set("packages", strings(s.packages));
}

proto::Step step_of(const Value& v) {
  proto::Step s;
  s.id = v["id"].str();
  s.state = v["state"].str();
  s.kind = v["kind"].str();
  s.name = v["name"].str();
  s.module = v["module"].str();
  s.body = v["body"].str();
  s.packages = strings_of(v["packages"]);
  return s;
}

std::string join_lines(const std::set<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += s + "\n";
  return out;
}

std::set<std::string> split_lines(const std::string& text) {
  std::set<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.insert(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}
}  // namespace

const char* state_name(DeploymentState state) {
  return kStateNames[static_cast<int>(state)];
}

bool parse_state(const std::string& name, DeploymentState* state) {
  return parse_enum(kStateNames, name, state);
}

bool is_final(DeploymentState s) {
  return s == DeploymentState::kDone || s == DeploymentState::kAborted ||
         s == DeploymentState::kCancelled;
}

bool is_transient(DeploymentState s) {
  return s != DeploymentState::kReady && !is_final(s);
}

const char* keep_running_name(KeepRunning p) {
  return kKeepRunningNames[static_cast<int>(p)];
}

bool parse_keep_running(const std::string& name, KeepRunning* p) {
  return parse_enum(kKeepRunningNames, name, p);
}

const char* status_name(InstanceStatus s) {
  return kStatusNames[static_cast<int>(s)];
}

bool parse_status(const std::string& name, InstanceStatus* s) {
  return parse_enum(kStatusNames, name, s);
}

bool is_live(InstanceStatus s) {
  return s != InstanceStatus::kLost && s != InstanceStatus::kFailed &&
         s != InstanceStatus::kTerminated;
}

Value NodePlan::to_value() const {
  Value steps = Value::array();
  for (const auto& s : plan.steps) steps.push(step_value(s));
  Value scale = Value::array();
  for (const auto& s : on_scale) scale.push(step_value(s));
  Value env = Value::object();
  for (const auto& [k, v] : plan.env) env.set(k, v);
  Value binds = Value::object();
  for (const auto& [input, b] : bindings) {
    binds.set(input, Value::object()
                         .set("literal", b.literal)
                         .set("value", b.value)
                         .set("node", b.node)
                         .set("instance", b.instance)
                         .set("parameter", b.parameter));
  }
  return Value::object()
      .set("name", name)
      .set("image", image)
      .set("chain", strings(chain))
      .set("cloud", cloud)
      .set("multiplicity", multiplicity)
      .set("max_provisioning_failures", max_provisioning_failures)
      .set("platform", plan.platform)
      .set("steps", steps)
      .set("env", env)
      .set("on_scale", scale)
      .set("reference", reference)
      .set("resources", Value::object()
                            .set("cpus", resources.cpus)
                            .set("memory_mb", resources.memory_mb)
                            .set("disk_gb", resources.disk_gb))
      .set("inputs", strings(inputs))
      .set("outputs", strings(outputs))
      .set("bindings", binds);
}

Result<NodePlan> NodePlan::from_value(const Value& v) {
  if (!v.is_object() || !v["name"].is_string()) {
    return Error(Code::kInternal, "a stored node plan is malformed");
  }
  NodePlan n;
  n.name = v["name"].str();
  n.image = v["image"].str();
  n.chain = strings_of(v["chain"]);
  n.cloud = v["cloud"].str();
  n.multiplicity = v["multiplicity"].as_int(1);
  n.max_provisioning_failures = v["max_provisioning_failures"].as_int();
  n.plan.platform = v["platform"].str();
  for (const auto& s : v["steps"].items()) n.plan.steps.push_back(step_of(s));
  for (const auto& [k, val] : v["env"].fields()) n.plan.env[k] = val.str();
  for (const auto& s : v["on_scale"].items()) n.on_scale.push_back(step_of(s));
  n.reference = v["reference"];
  n.resources.cpus = v["resources"]["cpus"].as_int(1);
  n.resources.memory_mb = v["resources"]["memory_mb"].as_int(512);
  n.resources.disk_gb = v["resources"]["disk_gb"].as_int(4);
  n.inputs = strings_of(v["inputs"]);
  n.outputs = strings_of(v["outputs"]);
  for (const auto& [input, b] : v["bindings"].fields()) {
    InputBinding binding;
    binding.literal = b["literal"].as_bool();
    binding.value = b["value"].str();
    binding.node = b["node"].str();
    binding.instance = b["instance"].str();
    binding.parameter = b["parameter"].str();
    n.bindings[input] = binding;
  }
  return n;
}

const NodePlan* Deployment::node(const std::string& name) const {
  for (const auto& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

std::vector<const Instance*> Deployment::live(const std::string& node_name) const {
  std::vector<const Instance*> out;
  for (const auto& [name, instance] : instances) {
    if (is_live(instance.status) && (node_name.empty() || instance.node == node_name)) {
      out.push_back(&instance);
    }
  }
  return out;
}

std::string Deployment::ids(const std::string& node_name) const {
  std::vector<int64_t> indexes;
  for (const Instance* i : live(node_name)) indexes.push_back(i->index);
  std::sort(indexes.begin(), indexes.end());
  std::string out;
  for (int64_t i : indexes) out += (out.empty() ? "" : ",") + std::to_string(i);
  return out;
}

// ------------------------------------------------------------------ store
namespace {
constexpr const char* kDeploymentColumns =
    "id, module, owner_uid, owner_name, state, aborted, abort_reason, keep_running, timeout_ms, "
    "created_at, state_since, reached_ready, terminate_requested, ended_at, spec";
}  // namespace

Status DeploymentStore::insert(const Deployment& d) {
  Value spec = Value::array();
  for (const auto& n : d.nodes) spec.push(n.to_value());
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare(std::string("INSERT INTO deployments(") + kDeploymentColumns +
                                     ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  stmt.bind(1, d.id)
      .bind(2, d.module)
      .bind(3, static_cast<int64_t>(d.owner_uid))
      .bind(4, d.owner_name)
      .bind(5, state_name(d.state))
      .bind(6, int64_t{d.aborted})
      .bind(7, d.abort_reason)
      .bind(8, keep_running_name(d.keep_running))
      .bind(9, d.timeout_ms)
      .bind(10, d.created_at)
      .bind(11, d.state_since)
      .bind(12, int64_t{d.reached_ready})
      .bind(13, int64_t{d.terminate_requested})
      .bind(14, d.ended_at)
      .bind_blob(15, spec.pack());
  SLIPWAY_RETURN_IF_ERROR(stmt.run());
  for (const auto& [name, instance] : d.instances)
    SLIPWAY_RETURN_IF_ERROR(insert_instance(d.id, instance));
  return ok_status();
}

Status DeploymentStore::save_state(const Deployment& d) {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
                           store_.db().prepare("UPDATE deployments SET state=?, aborted=?, "
                                               "abort_reason=?, state_since=?, reached_ready=?, "
                                               "terminate_requested=?, ended_at=? WHERE id=?"));
  return stmt.bind(1, state_name(d.state))
      .bind(2, int64_t{d.aborted})
      .bind(3, d.abort_reason)
      .bind(4, d.state_since)
      .bind(5, int64_t{d.reached_ready})
      .bind(6, int64_t{d.terminate_requested})
      .bind(7, d.ended_at)
      .bind(8, d.id)
      .run();
}

Status DeploymentStore::insert_instance(const std::string& deployment, const Instance& i) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare(
          "INSERT INTO instances(deployment, name, node, idx, cloud, machine_id, public_key, "
          "status, "
          "address, phase, state_done, error, completed) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  return stmt.bind(1, deployment)
      .bind(2, i.name)
      .bind(3, i.node)
      .bind(4, i.index)
      .bind(5, i.cloud)
      .bind(6, i.machine_id)
      .bind(7, i.public_key)
      .bind(8, status_name(i.status))
      .bind(9, i.address)
      .bind(10, i.phase)
      .bind(11, i.state_done)
      .bind(12, i.error)
      .bind(13, join_lines(i.completed))
      .run();
}

Status DeploymentStore::save_instance(const std::string& deployment, const Instance& i) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare(
          "UPDATE instances SET status=?, address=?, phase=?, state_done=?, error=?, completed=?, "
          "public_key=? WHERE deployment=? AND name=?"));
  return stmt.bind(1, status_name(i.status))
      .bind(2, i.address)
      .bind(3, i.phase)
      .bind(4, i.state_done)
      .bind(5, i.error)
      .bind(6, join_lines(i.completed))
      .bind(7, i.public_key)
      .bind(8, deployment)
      .bind(9, i.name)
      .run();
}

Result<Deployment> DeploymentStore::read_row(sql::Statement& stmt) {
  Deployment d;
  d.id = stmt.column_text(0);
  d.module = stmt.column_text(1);
  d.owner_uid = static_cast<uid_t>(stmt.column_int(2));
  d.owner_name = stmt.column_text(3);
  if (!parse_state(stmt.column_text(4), &d.state)) {
    return Error(Code::kInternal, "deployment " + d.id + " has an unknown state in the store");
  }
  d.aborted = stmt.column_int(5) != 0;
  d.abort_reason = stmt.column_text(6);
  parse_keep_running(stmt.column_text(7), &d.keep_running);
  d.timeout_ms = stmt.column_int(8);
  d.created_at = stmt.column_int(9);
  d.state_since = stmt.column_int(10);
  d.reached_ready = stmt.column_int(11) != 0;
  d.terminate_requested = stmt.column_int(12) != 0;
  d.ended_at = stmt.column_int(13);
  SLIPWAY_ASSIGN_OR_RETURN(Value spec, Value::unpack(stmt.column_text(14)));
  for (const auto& node : spec.items()) {
    SLIPWAY_ASSIGN_OR_RETURN(NodePlan plan, NodePlan::from_value(node));
    d.nodes.push_back(std::move(plan));
  }
  return d;
}

Status DeploymentStore::load_instances(Deployment* d) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare("SELECT name, node, idx, cloud, machine_id, public_key, "
                                     "status, address, phase, state_done, "
                                     "error, completed FROM instances WHERE deployment=?"));
  stmt.bind(1, d->id);
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    Instance i;
    i.name = stmt.column_text(0);
    i.node = stmt.column_text(1);
    i.index = stmt.column_int(2);
    i.cloud = stmt.column_text(3);
    i.machine_id = stmt.column_text(4);
    i.public_key = stmt.column_text(5);
    parse_status(stmt.column_text(6), &i.status);
    i.address = stmt.column_text(7);
    i.phase = stmt.column_text(8);
    i.state_done = stmt.column_text(9);
    i.error = stmt.column_text(10);
    i.completed = split_lines(stmt.column_text(11));
    d->instances[i.name] = std::move(i);
  }
  return ok_status();
}

Result<std::vector<Deployment>> DeploymentStore::read_all(sql::Statement& stmt) {
  std::vector<Deployment> out;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    auto d = read_row(stmt);
    if (!d.ok()) {
      // One damaged row must not hide the others, nor stop slipwayd at start.
      LOG_ERROR("deployment %s cannot be read from the store and is left out: %s",
                stmt.column_text(0).c_str(), d.error().message().c_str());
      continue;
    }
    out.push_back(std::move(*d));
  }
  for (auto& d : out) SLIPWAY_RETURN_IF_ERROR(load_instances(&d));
  return out;
}

Result<std::vector<Deployment>> DeploymentStore::load_active() {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare(std::string("SELECT ") + kDeploymentColumns +
                                     " FROM deployments WHERE state NOT IN "
                                     "('Done','Aborted','Cancelled') ORDER BY created_at"));
  return read_all(stmt);
}

Result<std::optional<Deployment>> DeploymentStore::load(const std::string& id) {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
                           store_.db().prepare(std::string("SELECT ") + kDeploymentColumns +
                                               " FROM deployments WHERE id=?"));
  stmt.bind(1, id);
  SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<Deployment>();
  SLIPWAY_ASSIGN_OR_RETURN(Deployment d, read_row(stmt));
  SLIPWAY_RETURN_IF_ERROR(load_instances(&d));
  return std::optional<Deployment>(std::move(d));
}

Result<std::vector<Deployment>> DeploymentStore::list(int64_t owner_uid) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare(
                     std::string("SELECT ") + kDeploymentColumns +
                     " FROM deployments WHERE (?1 < 0 OR owner_uid = ?1) ORDER BY created_at"));
  stmt.bind(1, owner_uid);
  return read_all(stmt);
}
}  // namespace slipway::controller
