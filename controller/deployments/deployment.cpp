#include "controller/deployments/deployment.h"

#include <algorithm>

#include "common/log.h"

namespace slipway::controller {
namespace {
constexpr const char* kStateNames[] = {"Initializing",   "Provisioning", "Executing",
                                       "SendingReports", "Ready",        "Finalizing",
                                       "Done",           "Aborted",      "Cancelled"};
constexpr const char* kKeepRunningNames[] = {"always", "on-success", "on-error", "never"};
constexpr const char* kStatusNames[] = {"pending", "launching", "booting",   "running",
                                        "lost",    "failed",    "terminated"};
constexpr const char* kPhaseNames[] = {
    "",           "launching", "booting",  "connected", "pre-install", "packages", "post-install",
    "deployment", "report",    "on-scale", "snapshotting", "ready", "terminating", "dropped"};

template <typename E, size_t N>
Result<E> parse_enum(const char* const (&names)[N], const std::string& name, const char* what) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<E>(i);
  }
  return Error(Code::kInvalidArgument, "\"" + name + "\" is not a " + what);
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

Result<DeploymentState> parse_state(const std::string& name) {
  return parse_enum<DeploymentState>(kStateNames, name, "deployment state");
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

Result<KeepRunning> parse_keep_running(const std::string& name) {
  return parse_enum<KeepRunning>(kKeepRunningNames, name, "keep-running policy");
}

const char* status_name(InstanceStatus s) {
  return kStatusNames[static_cast<int>(s)];
}

Result<InstanceStatus> parse_status(const std::string& name) {
  return parse_enum<InstanceStatus>(kStatusNames, name, "instance status");
}

const char* phase_name(InstancePhase p) {
  return kPhaseNames[static_cast<int>(p)];
}

Result<InstancePhase> parse_phase(std::string_view name) {
  return parse_enum<InstancePhase>(kPhaseNames, std::string(name), "instance phase");
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
      .set("bindings", binds)
      .set("boots_build", boots_build)
      .set("boots_image", boots_image)
      .set("builds", builds);
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
  // Absent in plans stored before the image factory: "".
  n.boots_build = v["boots_build"].str();
  n.boots_image = v["boots_image"].str();
  n.builds = v["builds"].str();
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
DeploymentRow state_row(const Deployment& d) {
  DeploymentRow row;
  row.id = d.id;
  row.module = d.module;
  row.owner_uid = static_cast<int64_t>(d.owner_uid);
  row.owner_name = d.owner_name;
  row.state = state_name(d.state);
  row.aborted = d.aborted;
  row.abort_reason = d.abort_reason;
  row.keep_running = keep_running_name(d.keep_running);
  row.timeout_ms = d.timeout_ms;
  row.created_at = d.created_at;
  row.state_since = d.state_since;
  row.reached_ready = d.reached_ready;
  row.terminate_requested = d.terminate_requested;
  row.ended_at = d.ended_at;
  return row;
}

InstanceRow instance_row(const Instance& i) {
  return InstanceRow{i.name,
                     i.node,
                     i.index,
                     i.cloud,
                     i.machine_id,
                     i.public_key,
                     status_name(i.status),
                     i.address,
                     phase_name(i.phase),
                     i.state_done,
                     i.error,
                     join_lines(i.completed)};
}

Error damaged(const std::string& id, const Error& why) {
  return Error(Code::kInternal, "deployment " + id + " is damaged in the store: " + why.message());
}
}  // namespace

Status DeploymentStore::insert(const Deployment& d) {
  Value spec = Value::array();
  for (const auto& n : d.nodes) spec.push(n.to_value());
  DeploymentRow row = state_row(d);
  row.spec = spec.pack();
  SLIPWAY_RETURN_IF_ERROR(rows_.insert(row));
  for (const auto& [name, instance] : d.instances)
    SLIPWAY_RETURN_IF_ERROR(insert_instance(d.id, instance));
  return ok_status();
}

Status DeploymentStore::save_state(const Deployment& d) {
  return rows_.save_state(state_row(d));
}

Status DeploymentStore::insert_instance(const std::string& deployment, const Instance& i) {
  return rows_.insert_instance(deployment, instance_row(i));
}

Status DeploymentStore::save_instance(const std::string& deployment, const Instance& i) {
  return rows_.save_instance(deployment, instance_row(i));
}

Result<Deployment> DeploymentStore::from_row(const DeploymentRow& row) {
  Deployment d;
  d.id = row.id;
  d.module = row.module;
  d.owner_uid = static_cast<uid_t>(row.owner_uid);
  d.owner_name = row.owner_name;
  auto state = parse_state(row.state);
  if (!state.ok()) return damaged(row.id, state.error());
  d.state = *state;
  d.aborted = row.aborted;
  d.abort_reason = row.abort_reason;
  auto keep_running = parse_keep_running(row.keep_running);
  if (!keep_running.ok()) return damaged(row.id, keep_running.error());
  d.keep_running = *keep_running;
  d.timeout_ms = row.timeout_ms;
  d.created_at = row.created_at;
  d.state_since = row.state_since;
  d.reached_ready = row.reached_ready;
  d.terminate_requested = row.terminate_requested;
  d.ended_at = row.ended_at;
  auto spec = Value::unpack(row.spec);
  if (!spec.ok()) return damaged(row.id, spec.error());
  for (const auto& node : spec->items()) {
    auto plan = NodePlan::from_value(node);
    if (!plan.ok()) return damaged(row.id, plan.error());
    d.nodes.push_back(std::move(*plan));
  }
  return d;
}

Status DeploymentStore::load_instances(Deployment* d) {
  SLIPWAY_ASSIGN_OR_RETURN(auto rows, rows_.instances(d->id));
  for (auto& row : rows) {
    Instance i;
    i.name = std::move(row.name);
    i.node = std::move(row.node);
    i.index = row.index;
    i.cloud = std::move(row.cloud);
    i.machine_id = std::move(row.machine_id);
    i.public_key = std::move(row.public_key);
    auto status = parse_status(row.status);
    if (!status.ok()) return damaged(d->id, status.error().wrap("instance " + i.name));
    i.status = *status;
    i.address = std::move(row.address);
    auto phase = parse_phase(row.phase);
    if (!phase.ok()) return damaged(d->id, phase.error().wrap("instance " + i.name));
    i.phase = *phase;
    i.state_done = std::move(row.state_done);
    i.error = std::move(row.error);
    i.completed = split_lines(row.completed);
    d->instances[i.name] = std::move(i);
  }
  return ok_status();
}

Result<std::vector<Deployment>> DeploymentStore::read_all(const std::vector<DeploymentRow>& rows) {
  auto leave_out = [](const std::string& id, const Error& error) {
    LOG_ERROR("deployment %s cannot be read from the store and is left out: %s", id.c_str(),
              error.message().c_str());
  };
  std::vector<Deployment> out;
  for (const auto& row : rows) {
    auto d = from_row(row);
    if (!d.ok()) {
      leave_out(row.id, d.error());
      continue;
    }
    out.push_back(std::move(*d));
  }
  for (auto it = out.begin(); it != out.end();) {
    Status loaded = load_instances(&*it);
    if (loaded.ok()) {
      ++it;
      continue;
    }
    if (loaded.error().code() != Code::kInternal) return loaded.error();
    leave_out(it->id, loaded.error());
    it = out.erase(it);
  }
  return out;
}

Result<std::vector<Deployment>> DeploymentStore::load_active() {
  SLIPWAY_ASSIGN_OR_RETURN(auto rows, rows_.active());
  return read_all(rows);
}

Result<std::optional<Deployment>> DeploymentStore::load(const std::string& id) {
  SLIPWAY_ASSIGN_OR_RETURN(auto row, rows_.find(id));
  if (!row) return std::optional<Deployment>();
  SLIPWAY_ASSIGN_OR_RETURN(Deployment d, from_row(*row));
  SLIPWAY_RETURN_IF_ERROR(load_instances(&d));
  return std::optional<Deployment>(std::move(d));
}

Result<std::vector<Deployment>> DeploymentStore::list(int64_t owner_uid) {
  SLIPWAY_ASSIGN_OR_RETURN(auto rows, rows_.of_owner(owner_uid));
  return read_all(rows);
}
}  // namespace slipway::controller
