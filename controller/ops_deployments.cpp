// Control operations on deployments: deploy, list, show, parameters, abort,
// terminate, reports.
#include "controller/control/deployment_view.h"
#include "controller/controller.h"
#include "controller/deployments/provisioner.h"

namespace slipway::controller {

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

Result<int64_t> timeout_ms_of(const Value& request, int64_t fallback_s) {
  const Value& t = request["timeout_s"];
  if (t.is_null()) return fallback_s * 1000;
  if (!t.is_int() || t.as_int() < 0 || t.as_int() > 30 * 86400) {
    return Error(Code::kUsage, "--timeout must be a number of seconds (0 waits forever)");
  }
  return t.as_int() * 1000;
}

std::map<std::string, std::optional<std::string>> as_map(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& list) {
  return {list.begin(), list.end()};
}

}  // namespace

void Controller::register_deployment_ops() {
  control_->handle("deploy", [this](const Caller& caller, const Value& request, Reply reply) {
    DeployRequest req;
    req.module = request["module"].str();
    req.cloud = request["cloud"].str();
    for (const auto& [node, cloud] : request["node_clouds"].fields())
      req.node_clouds[node] = cloud.str();
    for (const auto& p : request["parameters"].items()) req.parameters.push_back(p.str());
    for (const auto& [node, n] : request["multiplicities"].fields()) {
      if (!n.is_int())
        return reply.fail(Error(Code::kUsage, "--multiplicity " + node + " must be a number"));
      req.multiplicities[node] = n.as_int();
    }
    req.keep_running = request["keep_running"].str();
    auto timeout = timeout_ms_of(request, 0);
    if (!timeout.ok()) return reply.fail(timeout.error());
    req.timeout_ms = *timeout;
    if (req.module.empty()) return reply.fail(Error(Code::kUsage, "name the module to deploy"));
    auto plan = plan_deployment(caller, req, *catalog_, config_);
    if (!plan.ok()) return reply.fail(plan.error());
    for (const auto& node : plan->nodes) {
      std::string why = provisioner_->unavailable(node.cloud);
      if (!why.empty()) {
        return reply.fail(
            Error(Code::kUnavailable, "cloud " + node.cloud + " is not available: " + why));
      }
    }
    auto id = engine_->create(caller, *plan);
    if (!id.ok()) return reply.fail(id.error());
    reply.ok(Value::object().set("id", *id).set("module", plan->module));
  });

  control_->handle("list", [this](const Caller& caller, const Value&, Reply reply) {
    auto all = engine_->list(caller);
    if (!all.ok()) return reply.fail(all.error());
    Value out = Value::array();
    for (const auto& d : *all) out.push(deployment_summary(d, clock_.wall_ms()));
    reply.ok(std::move(out));
  });

  control_->handle("show", [this](const Caller& caller, const Value& request, Reply reply) {
    const std::string& id = request["id"].str();
    auto d = engine_->find(caller, id);
    if (!d.ok()) return reply.fail(d.error());
    std::map<std::string, std::optional<std::string>> params;
    if (engine_->active(id)) {
      params = as_map(engine_->parameters().list(id, "*"));
    } else if (auto stored = engine_->parameters().list_stored(id, "*"); stored.ok()) {
      params = as_map(*stored);
    }
    Value detail = deployment_detail(*d, clock_.wall_ms(), params);
    Value events = Value::array();
    if (auto recent = events_->recent(id, 20); recent.ok()) {
      for (const auto& e : *recent) events.push(e.to_value());
    }
    detail.set("events", std::move(events));
    reply.ok(std::move(detail));
  });

  control_->handle("params", [this](const Caller& caller, const Value& request, Reply reply) {
    const std::string& id = request["id"].str();
    auto d = engine_->find(caller, id);
    if (!d.ok()) return reply.fail(d.error());
    std::string glob = request["glob"].as_string("*");
    std::vector<std::pair<std::string, std::optional<std::string>>> list;
    if (engine_->active(id)) {
      list = engine_->parameters().list(id, glob);
    } else {
      auto stored = engine_->parameters().list_stored(id, glob);
      if (!stored.ok()) return reply.fail(stored.error());
      list = std::move(*stored);
    }
    Value out = Value::array();
    for (const auto& [key, value] : list) {
      out.push(Value::object().set("key", key).set("value", value ? Value(*value) : Value()));
    }
    reply.ok(std::move(out));
  });

  control_->handle("get", [this](const Caller& caller, const Value& request, Reply reply) {
    const std::string& id = request["id"].str();
    auto d = engine_->find(caller, id);
    if (!d.ok()) return reply.fail(d.error());
    auto name = parse_parameter(request["key"].str(), "");
    if (!name.ok()) return reply.fail(name.error());
    std::string key = name->key();
    auto timeout = timeout_ms_of(request, 60);
    if (!timeout.ok()) return reply.fail(timeout.error());
    if (!engine_->active(id)) {
      auto stored = engine_->parameters().list_stored(id, key);
      if (!stored.ok()) return reply.fail(stored.error());
      if (stored->empty() || !stored->front().second) {
        return reply.fail(
            Error(Code::kNotSet, key + " was never set, and deployment " + id + " is over"));
      }
      return reply.ok(Value::object().set("key", key).set("value", *stored->front().second));
    }
    if (auto value = engine_->parameters().get(id, key)) {
      return reply.ok(Value::object().set("key", key).set("value", *value));
    }
    if (d->aborted)
      return reply.fail(Error(Code::kAborted, "the deployment was aborted: " + d->abort_reason));
    int64_t deadline = *timeout > 0 ? clock_.steady_ms() + *timeout : 0;
    uint64_t wait = engine_->parameters().wait(
        id, {key}, deadline, [reply, key](Result<ParameterStore::Values> values) {
          if (!values.ok()) return reply.fail(values.error());
          reply.ok(Value::object().set("key", key).set("value", values->front()));
        });
    reply.on_close([this, wait] { engine_->parameters().cancel(wait); });
  });

  control_->handle("set", [this](const Caller& caller, const Value& request, Reply reply) {
    Status set = engine_->set_parameter(caller, request["id"].str(), request["key"].str(),
                                        request["value"].str());
    if (!set.ok()) return reply.fail(set.error());
    reply.ok(Value::object().set("key", request["key"]));
  });

  control_->handle("abort", [this](const Caller& caller, const Value& request, Reply reply) {
    Status aborted = engine_->abort(caller, request["id"].str(), request["reason"].str());
    if (!aborted.ok()) return reply.fail(aborted.error());
    reply.ok(Value::object().set("id", request["id"]));
  });

  control_->handle("terminate", [this](const Caller& caller, const Value& request, Reply reply) {
    Status terminated = engine_->terminate(caller, request["id"].str());
    if (!terminated.ok()) return reply.fail(terminated.error());
    reply.ok(Value::object().set("id", request["id"]));
  });

  control_->handle("reports", [this](const Caller& caller, const Value& request, Reply reply) {
    const std::string& id = request["id"].str();
    auto d = engine_->find(caller, id);
    if (!d.ok()) return reply.fail(d.error());
    // One event per stored chunk, a few at a time, each batch once the last
    // is written: reports of any size, never all in memory.
    auto stream = std::make_shared<ReportStream>(engine_->logs(), id, reply);
    stream->next();
  });

  control_->handle("console", [this](const Caller& caller, const Value& request, Reply reply) {
    const std::string& id = request["id"].str();
    auto d = engine_->find(caller, id);
    if (!d.ok()) return reply.fail(d.error());
    auto it = d->instances.find(request["instance"].str());
    if (it == d->instances.end()) {
      return reply.fail(Error(
          Code::kNotFound, "deployment " + id + " has no instance " + request["instance"].str()));
    }
    auto log = provisioner_->console_log(it->second.cloud, it->second.machine_id);
    if (!log.ok()) return reply.fail(log.error());
    reply.ok(Value::object().set("instance", it->first).set("console", *log));
  });
}

}  // namespace slipway::controller
