#include "controller/control/control_protocol.h"

namespace slipway::control_protocol {

namespace {

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// Reads the fields of one request; null counts as missing, since msgpack
// from other clients may carry nil for "not given".
class Fields {
 public:
  Fields(std::string_view op, const Value& request) : op_(op), request_(request) {}

  Status string(std::string_view field, std::string* out, bool required = false) const {
    const Value& v = request_[field];
    if (v.is_null()) return required ? missing(field, "a string") : ok_status();
    if (!v.is_string()) return wrong(field, "a string");
    *out = v.str();
    return ok_status();
  }
  Status integer(std::string_view field, int64_t* out) const {
    const Value& v = request_[field];
    if (v.is_null()) return ok_status();
    if (!v.is_int()) return wrong(field, "an integer");
    *out = v.as_int();
    return ok_status();
  }
  Status boolean(std::string_view field, bool* out) const {
    const Value& v = request_[field];
    if (v.is_null()) return ok_status();
    if (!v.is_bool()) return wrong(field, "true or false");
    *out = v.as_bool();
    return ok_status();
  }
  // A map or an array, when present.
  Result<const Value*> container(std::string_view field, bool map, bool required = false) const {
    const Value& v = request_[field];
    const char* what = map ? "a map" : "an array";
    if (v.is_null()) {
      if (required) return missing(field, what);
      return static_cast<const Value*>(nullptr);
    }
    if (map ? !v.is_object() : !v.is_array()) return wrong(field, what);
    return &v;
  }
  Error wrong(std::string_view field, const char* type) const {
    return Error(Code::kInvalidArgument,
                 quoted(field) + " of a " + quoted(op_) + " request must be " + type);
  }

 private:
  Error missing(std::string_view field, const char* type) const {
    return Error(Code::kInvalidArgument,
                 "a " + quoted(op_) + " request needs " + quoted(field) + " (" + type + ")");
  }

  std::string_view op_;
  const Value& request_;
};

// What `slipway` has always said of a bad --timeout; kept for other clients.
Status timeout_seconds(const Value& request, int64_t* out) {
  const Value& t = request[kTimeoutS];
  if (t.is_null()) return ok_status();
  if (!t.is_int() || t.as_int() < 0 || t.as_int() > 30 * 86400) {
    return Error(Code::kUsage, "--timeout must be a number of seconds (0 waits forever)");
  }
  *out = t.as_int();
  return ok_status();
}

Value with_op(std::string_view op) {
  return Value::object().set(std::string(kOp), std::string(op));
}

}  // namespace

Value request(std::string_view op) {
  return with_op(op);
}

Result<IdRequest> decode_id(std::string_view op, const Value& request) {
  IdRequest out;
  SLIPWAY_RETURN_IF_ERROR(Fields(op, request).string(kId, &out.id, true));
  return out;
}
Value encode(std::string_view op, const IdRequest& request) {
  return with_op(op).set(std::string(kId), request.id);
}

Result<DeployRequest> decode_deploy(const Value& request) {
  Fields fields(kDeploy, request);
  DeployRequest out;
  SLIPWAY_RETURN_IF_ERROR(fields.string(kModule, &out.module));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kCloud, &out.cloud));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kKeepRunning, &out.keep_running));
  SLIPWAY_ASSIGN_OR_RETURN(const Value* clouds, fields.container(kNodeClouds, true));
  if (clouds) {
    for (const auto& [node, cloud] : clouds->fields()) {
      if (!cloud.is_string()) return fields.wrong(kNodeClouds, "a map of node to cloud name");
      out.node_clouds[node] = cloud.str();
    }
  }
  SLIPWAY_ASSIGN_OR_RETURN(const Value* parameters, fields.container(kParameters, false));
  if (parameters) {
    for (const auto& p : parameters->items()) {
      if (!p.is_string()) return fields.wrong(kParameters, "an array of NODE:KEY=VALUE strings");
      out.parameters.push_back(p.str());
    }
  }
  SLIPWAY_ASSIGN_OR_RETURN(const Value* multiplicities, fields.container(kMultiplicities, true));
  if (multiplicities) {
    for (const auto& [node, n] : multiplicities->fields()) {
      if (!n.is_int()) return Error(Code::kUsage, "--multiplicity " + node + " must be a number");
      out.multiplicities[node] = n.as_int();
    }
  }
  SLIPWAY_RETURN_IF_ERROR(timeout_seconds(request, &out.timeout_s));
  if (out.module.empty()) return Error(Code::kUsage, "name the module to deploy");
  return out;
}
Value encode(const DeployRequest& request) {
  Value node_clouds = Value::object();
  for (const auto& [node, cloud] : request.node_clouds) node_clouds.set(node, cloud);
  Value parameters = Value::array();
  for (const auto& p : request.parameters) parameters.push(p);
  Value multiplicities = Value::object();
  for (const auto& [node, n] : request.multiplicities) multiplicities.set(node, n);
  Value out = with_op(kDeploy)
                  .set(std::string(kModule), request.module)
                  .set(std::string(kCloud), request.cloud)
                  .set(std::string(kKeepRunning), request.keep_running)
                  .set(std::string(kNodeClouds), std::move(node_clouds))
                  .set(std::string(kMultiplicities), std::move(multiplicities))
                  .set(std::string(kParameters), std::move(parameters));
  if (request.timeout_s != 0) out.set(std::string(kTimeoutS), request.timeout_s);
  return out;
}

Result<ParamsRequest> decode_params(const Value& request) {
  Fields fields(kParams, request);
  ParamsRequest out;
  SLIPWAY_RETURN_IF_ERROR(fields.string(kId, &out.id, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kGlob, &out.glob));
  return out;
}
Value encode(const ParamsRequest& request) {
  return with_op(kParams).set(std::string(kId), request.id).set(std::string(kGlob), request.glob);
}

Result<GetRequest> decode_get(const Value& request) {
  Fields fields(kGet, request);
  GetRequest out;
  SLIPWAY_RETURN_IF_ERROR(fields.string(kId, &out.id, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kKey, &out.key, true));
  SLIPWAY_RETURN_IF_ERROR(timeout_seconds(request, &out.timeout_s));
  return out;
}
Value encode(const GetRequest& request) {
  return with_op(kGet)
      .set(std::string(kId), request.id)
      .set(std::string(kKey), request.key)
      .set(std::string(kTimeoutS), request.timeout_s);
}

Result<SetRequest> decode_set(const Value& request) {
  Fields fields(kSet, request);
  SetRequest out;
  SLIPWAY_RETURN_IF_ERROR(fields.string(kId, &out.id, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kKey, &out.key, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kValue, &out.value, true));
  return out;
}
Value encode(const SetRequest& request) {
  return with_op(kSet)
      .set(std::string(kId), request.id)
      .set(std::string(kKey), request.key)
      .set(std::string(kValue), request.value);
}

Result<AbortRequest> decode_abort(const Value& request) {
  Fields fields(kAbort, request);
  AbortRequest out;
  SLIPWAY_RETURN_IF_ERROR(fields.string(kId, &out.id, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kReason, &out.reason));
  return out;
}
Value encode(const AbortRequest& request) {
  return with_op(kAbort)
      .set(std::string(kId), request.id)
      .set(std::string(kReason), request.reason);
}

Result<ConsoleRequest> decode_console(const Value& request) {
  Fields fields(kConsole, request);
  ConsoleRequest out;
  SLIPWAY_RETURN_IF_ERROR(fields.string(kId, &out.id, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kInstance, &out.instance, true));
  return out;
}
Value encode(const ConsoleRequest& request) {
  return with_op(kConsole)
      .set(std::string(kId), request.id)
      .set(std::string(kInstance), request.instance);
}

Result<PushRequest> decode_push(const Value& request) {
  Fields fields(kModulePush, request);
  PushRequest out;
  SLIPWAY_ASSIGN_OR_RETURN(const Value* files, fields.container(kFiles, false, true));
  for (const auto& f : files->items()) {
    if (!f.is_object() || !f[kPath].is_string() || !f[kContent].is_string())
      return fields.wrong(kFiles, "an array of {path, content} maps of strings");
    out.files.push_back({f[kPath].str(), f[kContent].str()});
  }
  return out;
}
Value encode(const PushRequest& request) {
  Value files = Value::array();
  for (const auto& f : request.files) {
    files.push(
        Value::object().set(std::string(kPath), f.path).set(std::string(kContent), f.content));
  }
  return with_op(kModulePush).set(std::string(kFiles), std::move(files));
}

Result<ModuleRequest> decode_module(std::string_view op, const Value& request) {
  ModuleRequest out;
  SLIPWAY_RETURN_IF_ERROR(Fields(op, request).string(kModule, &out.module, true));
  return out;
}
Value encode(std::string_view op, const ModuleRequest& request) {
  return with_op(op).set(std::string(kModule), request.module);
}

Result<NameRequest> decode_name(std::string_view op, const Value& request) {
  NameRequest out;
  SLIPWAY_RETURN_IF_ERROR(Fields(op, request).string(kName, &out.name, true));
  return out;
}
Value encode(std::string_view op, const NameRequest& request) {
  return with_op(op).set(std::string(kName), request.name);
}

Result<ShareRequest> decode_share(const Value& request) {
  Fields fields(kModuleShare, request);
  ShareRequest out;
  SLIPWAY_RETURN_IF_ERROR(fields.string(kName, &out.name, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kVisibility, &out.visibility, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kGroup, &out.group));
  return out;
}
Value encode(const ShareRequest& request) {
  return with_op(kModuleShare)
      .set(std::string(kName), request.name)
      .set(std::string(kVisibility), request.visibility)
      .set(std::string(kGroup), request.group);
}

Result<AgentAddRequest> decode_agent_add(const Value& request) {
  Fields fields(kAgentAdd, request);
  AgentAddRequest out;
  SLIPWAY_RETURN_IF_ERROR(fields.string(kName, &out.name, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kHost, &out.host));
  return out;
}
Value encode(const AgentAddRequest& request) {
  return with_op(kAgentAdd)
      .set(std::string(kName), request.name)
      .set(std::string(kHost), request.host);
}

Result<WatchRequest> decode_watch(const Value& request) {
  Fields fields(kWatch, request);
  WatchRequest out;
  SLIPWAY_RETURN_IF_ERROR(fields.string(kId, &out.id, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kState, &out.state));
  SLIPWAY_RETURN_IF_ERROR(fields.integer(kTimeoutS, &out.timeout_s));
  return out;
}
Value encode(const WatchRequest& request) {
  Value out =
      with_op(kWatch).set(std::string(kId), request.id).set(std::string(kState), request.state);
  if (request.timeout_s > 0) out.set(std::string(kTimeoutS), request.timeout_s);
  return out;
}

Result<LogsRequest> decode_logs(const Value& request) {
  Fields fields(kLogs, request);
  LogsRequest out;
  SLIPWAY_RETURN_IF_ERROR(fields.string(kId, &out.id, true));
  SLIPWAY_RETURN_IF_ERROR(fields.string(kInstance, &out.instance));
  SLIPWAY_RETURN_IF_ERROR(fields.boolean(kFollow, &out.follow));
  return out;
}
Value encode(const LogsRequest& request) {
  return with_op(kLogs)
      .set(std::string(kId), request.id)
      .set(std::string(kInstance), request.instance)
      .set(std::string(kFollow), request.follow);
}

Result<EventsRequest> decode_events(const Value& request) {
  EventsRequest out;
  SLIPWAY_RETURN_IF_ERROR(Fields(kEvents, request).boolean(kFollow, &out.follow));
  return out;
}
Value encode(const EventsRequest& request) {
  return with_op(kEvents).set(std::string(kFollow), request.follow);
}

Result<ImageRequest> decode_image(std::string_view op, const Value& request) {
  Fields fields(op, request);
  ImageRequest out;
  out.op = std::string(op);
  const bool build = op == kImageBuild;
  SLIPWAY_RETURN_IF_ERROR(fields.string(build ? kModule : kName, &out.name, op != kImageList));
  if (op != kImageList) SLIPWAY_RETURN_IF_ERROR(fields.string(kCloud, &out.cloud));
  return out;
}
Value encode(const ImageRequest& request) {
  Value out = with_op(request.op);
  out.set(std::string(request.op == kImageBuild ? kModule : kName), request.name);
  if (request.op != kImageList) out.set(std::string(kCloud), request.cloud);
  return out;
}

namespace {

template <typename Decoded>
Result<Value> again(Result<Decoded> decoded) {
  if (!decoded.ok()) return decoded.error();
  return encode(*decoded);
}

template <typename Decoded>
Result<Value> again(std::string_view op, Result<Decoded> decoded) {
  if (!decoded.ok()) return decoded.error();
  return encode(op, *decoded);
}

}  // namespace

Result<Value> normalize(const Value& r) {
  const std::string& op = r[kOp].str();
  if (op == kList || op == kModuleList || op == kStatus || op == kAgentList) return request(op);
  if (op == kShow || op == kTerminate || op == kReports) return again(op, decode_id(op, r));
  if (op == kModuleShow || op == kModuleRm) return again(op, decode_module(op, r));
  if (op == kModuleVersions || op == kAgentRevoke) return again(op, decode_name(op, r));
  if (op == kDeploy) return again(decode_deploy(r));
  if (op == kParams) return again(decode_params(r));
  if (op == kGet) return again(decode_get(r));
  if (op == kSet) return again(decode_set(r));
  if (op == kAbort) return again(decode_abort(r));
  if (op == kConsole) return again(decode_console(r));
  if (op == kModulePush) return again(decode_push(r));
  if (op == kModuleShare) return again(decode_share(r));
  if (op == kAgentAdd) return again(decode_agent_add(r));
  if (op == kWatch) return again(decode_watch(r));
  if (op == kLogs) return again(decode_logs(r));
  if (op == kEvents) return again(decode_events(r));
  if (op == kImageBuild || op == kImageList || op == kImageRm) return again(decode_image(op, r));
  return Error(Code::kUsage, "unknown request " + quoted(op));
}

}  // namespace slipway::control_protocol
