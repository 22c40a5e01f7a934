#include "controller/control/deployment_handlers.h"

#include "controller/control/control_protocol.h"
#include "controller/control/deployment_view.h"
#include "controller/deployments/planner.h"

namespace slipway::controller {

namespace cp = control_protocol;

namespace {

// Streams a deployment's report chunks to a `slipway reports` caller.
class ReportStream : public std::enable_shared_from_this<ReportStream> {
 public:
  ReportStream(LogStore& logs, std::string id, Reply reply)
      : logs_(logs), id_(std::move(id)), reply_(std::move(reply)) {}

  void next() {
    if (reply_.closed()) return;
    auto pieces = logs_.report_pieces(id_, after_, kPiecesPerBatch);
    if (!pieces.ok()) return reply_.fail(pieces.error());
    if (pieces->empty()) {
      return reply_.ok(Value::object().set("chunks", sent_));
    }
    for (auto& p : *pieces) {
      after_ = p.row;
      ++sent_;
      reply_.event(Value::object()
                       .set("instance", p.instance)
                       .set("name", p.name)
                       .set("offset", static_cast<int64_t>(p.offset))
                       .set("data", std::move(p.data))
                       .set("last", p.last));
    }
    reply_.when_drained([self = shared_from_this()] { self->next(); });
  }

 private:
  static constexpr int kPiecesPerBatch = 16;  // at most 4 MiB of 256 KiB chunks
  LogStore& logs_;
  std::string id_;
  Reply reply_;
  int64_t after_ = 0;
  int64_t sent_ = 0;
};

std::map<std::string, std::optional<std::string>> as_map(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& list) {
  return {list.begin(), list.end()};
}

}  // namespace

void DeploymentHandlers::register_with(ControlServer& server) {
  server.handle(cp::kDeploy, *this, &DeploymentHandlers::deploy);
  server.handle(cp::kList, *this, &DeploymentHandlers::list);
  server.handle(cp::kShow, *this, &DeploymentHandlers::show);
  server.handle(cp::kParams, *this, &DeploymentHandlers::params);
  server.handle(cp::kGet, *this, &DeploymentHandlers::get);
  server.handle(cp::kSet, *this, &DeploymentHandlers::set);
  server.handle(cp::kAbort, *this, &DeploymentHandlers::abort);
  server.handle(cp::kTerminate, *this, &DeploymentHandlers::terminate);
  server.handle(cp::kReports, *this, &DeploymentHandlers::reports);
  server.handle(cp::kConsole, *this, &DeploymentHandlers::console);
}

void DeploymentHandlers::deploy(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_deploy(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  DeployRequest req;
  req.module = decoded->module;
  req.cloud = decoded->cloud;
  req.node_clouds = decoded->node_clouds;
  req.parameters = decoded->parameters;
  req.multiplicities = decoded->multiplicities;
  req.keep_running = decoded->keep_running;
  req.timeout_ms = decoded->timeout_s * 1000;
  auto plan = plan_deployment(caller, req, catalog_, config_, builds_);
  if (!plan.ok()) return reply.fail(plan.error());
  for (const auto& node : plan->nodes) {
    // A cloud still preparing takes the order: its launches wait for it.
    CloudState cloud = clouds_.state(node.cloud);
    if (cloud.phase == CloudState::Phase::kUnavailable) {
      return reply.fail(
          Error(Code::kUnavailable, "cloud " + node.cloud + " is not available: " + cloud.why));
    }
  }
  auto id = engine_.create(caller, *plan);
  if (!id.ok()) return reply.fail(id.error());
  reply.ok(Value::object().set("id", *id).set("module", plan->module));
}

void DeploymentHandlers::list(const Caller& caller, const Value&, Reply reply) {
  auto all = engine_.list(caller);
  if (!all.ok()) return reply.fail(all.error());
  Value out = Value::array();
  for (const auto& d : *all) out.push(deployment_summary(d, clock_.wall_ms()));
  reply.ok(std::move(out));
}

void DeploymentHandlers::show(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_id(cp::kShow, request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  const std::string& id = decoded->id;
  auto d = engine_.find(caller, id);
  if (!d.ok()) return reply.fail(d.error());
  std::map<std::string, std::optional<std::string>> params;
  if (engine_.active(id)) {
    params = as_map(engine_.parameters().list(id, "*"));
  } else if (auto stored = engine_.parameters().list_stored(id, "*"); stored.ok()) {
    params = as_map(*stored);
  }
  Value detail = deployment_detail(*d, clock_.wall_ms(), params);
  Value events = Value::array();
  if (auto recent = events_.recent(id, 20); recent.ok()) {
    for (const auto& e : *recent) events.push(e.to_value());
  }
  detail.set("events", std::move(events));
  reply.ok(std::move(detail));
}

void DeploymentHandlers::params(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_params(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  const std::string& id = decoded->id;
  auto d = engine_.find(caller, id);
  if (!d.ok()) return reply.fail(d.error());
  std::vector<std::pair<std::string, std::optional<std::string>>> list;
  if (engine_.active(id)) {
    list = engine_.parameters().list(id, decoded->glob);
  } else {
    auto stored = engine_.parameters().list_stored(id, decoded->glob);
    if (!stored.ok()) return reply.fail(stored.error());
    list = std::move(*stored);
  }
  Value out = Value::array();
  for (const auto& [key, value] : list) {
    out.push(Value::object().set("key", key).set("value", value ? Value(*value) : Value()));
  }
  reply.ok(std::move(out));
}

void DeploymentHandlers::get(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_get(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  const std::string& id = decoded->id;
  auto d = engine_.find(caller, id);
  if (!d.ok()) return reply.fail(d.error());
  auto name = parse_parameter(decoded->key, "");
  if (!name.ok()) return reply.fail(name.error());
  std::string key = name->key();
  if (!engine_.active(id)) {
    auto stored = engine_.parameters().list_stored(id, key);
    if (!stored.ok()) return reply.fail(stored.error());
    if (stored->empty() || !stored->front().second) {
      return reply.fail(
          Error(Code::kNotSet, key + " was never set, and deployment " + id + " is over"));
    }
    return reply.ok(Value::object().set("key", key).set("value", *stored->front().second));
  }
  if (auto value = engine_.parameters().get(id, key)) {
    return reply.ok(Value::object().set("key", key).set("value", *value));
  }
  if (d->aborted)
    return reply.fail(Error(Code::kAborted, "the deployment was aborted: " + d->abort_reason));
  int64_t timeout_ms = decoded->timeout_s * 1000;
  int64_t deadline = timeout_ms > 0 ? clock_.steady_ms() + timeout_ms : 0;
  uint64_t wait = engine_.parameters().wait(
      id, {key}, deadline, [reply, key](Result<ParameterStore::Values> values) {
        if (!values.ok()) return reply.fail(values.error());
        reply.ok(Value::object().set("key", key).set("value", values->front()));
      });
  reply.on_close([this, wait] { engine_.parameters().cancel(wait); });
}

void DeploymentHandlers::set(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_set(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  Status set = engine_.set_parameter(caller, decoded->id, decoded->key, decoded->value);
  if (!set.ok()) return reply.fail(set.error());
  reply.ok(Value::object().set("key", decoded->key));
}

void DeploymentHandlers::abort(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_abort(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  Status aborted = engine_.abort(caller, decoded->id, decoded->reason);
  if (!aborted.ok()) return reply.fail(aborted.error());
  reply.ok(Value::object().set("id", decoded->id));
}

void DeploymentHandlers::terminate(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_id(cp::kTerminate, request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  Status terminated = engine_.terminate(caller, decoded->id);
  if (!terminated.ok()) return reply.fail(terminated.error());
  reply.ok(Value::object().set("id", decoded->id));
}

void DeploymentHandlers::reports(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_id(cp::kReports, request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  auto d = engine_.find(caller, decoded->id);
  if (!d.ok()) return reply.fail(d.error());
  // One event per stored chunk, a few at a time, each batch once the last
  // is written: reports of any size, never all in memory.
  auto stream = std::make_shared<ReportStream>(engine_.logs(), decoded->id, reply);
  stream->next();
}

void DeploymentHandlers::console(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_console(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  const std::string& id = decoded->id;
  auto d = engine_.find(caller, id);
  if (!d.ok()) return reply.fail(d.error());
  auto it = d->instances.find(decoded->instance);
  if (it == d->instances.end()) {
    return reply.fail(
        Error(Code::kNotFound, "deployment " + id + " has no instance " + decoded->instance));
  }
  auto log = clouds_.console_log(it->second.cloud, it->second.machine_id);
  if (!log.ok()) return reply.fail(log.error());
  reply.ok(Value::object().set("instance", it->first).set("console", *log));
}

}  // namespace slipway::controller
