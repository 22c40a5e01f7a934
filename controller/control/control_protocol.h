// The control protocol's operations and their request fields, named once for
// both ends: `slipway` (cli/) encodes requests with these, slipwayd's
// handlers (controller/control/*_handlers) decode them. docs/protocol.md,
// "The control socket", mirrors this header.
//
// A request is a msgpack map {"op": NAME, FIELD: VALUE...}. A decoder checks
// the fields its operation reads: a required field missing, or any field of
// the wrong type, gives kInvalidArgument and a sentence naming both; fields
// it does not know are ignored, so an older slipwayd serves a newer slipway.
//
// Depends on common/ only: the CLI includes it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace slipway::control_protocol {

// The field every request has.
inline constexpr std::string_view kOp = "op";

// Operations, by area.
inline constexpr std::string_view kDeploy = "deploy";
inline constexpr std::string_view kList = "list";
inline constexpr std::string_view kShow = "show";
inline constexpr std::string_view kParams = "params";
inline constexpr std::string_view kGet = "get";
inline constexpr std::string_view kSet = "set";
inline constexpr std::string_view kAbort = "abort";
inline constexpr std::string_view kTerminate = "terminate";
inline constexpr std::string_view kReports = "reports";
inline constexpr std::string_view kConsole = "console";
inline constexpr std::string_view kModulePush = "module.push";
inline constexpr std::string_view kModuleList = "module.list";
inline constexpr std::string_view kModuleShow = "module.show";
inline constexpr std::string_view kModuleVersions = "module.versions";
inline constexpr std::string_view kModuleRm = "module.rm";
inline constexpr std::string_view kModuleShare = "module.share";
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kAgentAdd = "agent.add";
inline constexpr std::string_view kAgentRevoke = "agent.revoke";
inline constexpr std::string_view kAgentList = "agent.list";
inline constexpr std::string_view kWatch = "watch";
inline constexpr std::string_view kLogs = "logs";
inline constexpr std::string_view kEvents = "events";
inline constexpr std::string_view kImageBuild = "image.build";
inline constexpr std::string_view kImageList = "image.list";
inline constexpr std::string_view kImageRm = "image.rm";

// Every operation, for tests and the fuzz target.
inline constexpr std::string_view kOperations[] = {
    kDeploy,    kList,        kShow,       kParams,     kGet,         kSet,        kAbort,
    kTerminate, kReports,     kConsole,    kModulePush, kModuleList,  kModuleShow, kModuleVersions,
    kModuleRm,  kModuleShare, kStatus,     kAgentAdd,   kAgentRevoke, kAgentList,  kWatch,
    kLogs,      kEvents,      kImageBuild, kImageList,  kImageRm};

// Request fields.
inline constexpr std::string_view kId = "id";
inline constexpr std::string_view kModule = "module";
inline constexpr std::string_view kCloud = "cloud";
inline constexpr std::string_view kNodeClouds = "node_clouds";
inline constexpr std::string_view kParameters = "parameters";
inline constexpr std::string_view kMultiplicities = "multiplicities";
inline constexpr std::string_view kKeepRunning = "keep_running";
inline constexpr std::string_view kTimeoutS = "timeout_s";
inline constexpr std::string_view kGlob = "glob";
inline constexpr std::string_view kKey = "key";
inline constexpr std::string_view kValue = "value";
inline constexpr std::string_view kReason = "reason";
inline constexpr std::string_view kInstance = "instance";
inline constexpr std::string_view kFiles = "files";
inline constexpr std::string_view kPath = "path";
inline constexpr std::string_view kContent = "content";
inline constexpr std::string_view kName = "name";
inline constexpr std::string_view kVisibility = "visibility";
inline constexpr std::string_view kGroup = "group";
inline constexpr std::string_view kHost = "host";
inline constexpr std::string_view kState = "state";
inline constexpr std::string_view kFollow = "follow";

// A request of an operation with no fields (list, module.list, status,
// agent.list).
Value request(std::string_view op);

// {id}: show, terminate, reports.
struct IdRequest {
  std::string id;
};
Result<IdRequest> decode_id(std::string_view op, const Value& request);
Value encode(std::string_view op, const IdRequest& request);

// deploy {module, cloud?, node_clouds?, parameters?, multiplicities?,
// keep_running?, timeout_s?}. parameters are "NODE:KEY=VALUE" texts;
// timeout_s 0 waits forever.
struct DeployRequest {
  std::string module;
  std::string cloud;
  std::map<std::string, std::string> node_clouds;
  std::vector<std::string> parameters;
  std::map<std::string, int64_t> multiplicities;
  std::string keep_running;
  int64_t timeout_s = 0;
};
Result<DeployRequest> decode_deploy(const Value& request);
Value encode(const DeployRequest& request);

// params {id, glob?}
struct ParamsRequest {
  std::string id;
  std::string glob = "*";
};
Result<ParamsRequest> decode_params(const Value& request);
Value encode(const ParamsRequest& request);

// get {id, key, timeout_s?}: waits up to timeout_s (default 60, 0 forever).
struct GetRequest {
  std::string id;
  std::string key;
  int64_t timeout_s = 60;
};
Result<GetRequest> decode_get(const Value& request);
Value encode(const GetRequest& request);

// set {id, key, value}
struct SetRequest {
  std::string id;
  std::string key;
  std::string value;
};
Result<SetRequest> decode_set(const Value& request);
Value encode(const SetRequest& request);

// abort {id, reason?}
struct AbortRequest {
  std::string id;
  std::string reason;
};
Result<AbortRequest> decode_abort(const Value& request);
Value encode(const AbortRequest& request);

// console {id, instance}
struct ConsoleRequest {
  std::string id;
  std::string instance;
};
Result<ConsoleRequest> decode_console(const Value& request);
Value encode(const ConsoleRequest& request);

// module.push {files: [{path, content}]}
struct PushRequest {
  struct File {
    std::string path;
    std::string content;
  };
  std::vector<File> files;
};
Result<PushRequest> decode_push(const Value& request);
Value encode(const PushRequest& request);

// {module}: module.show and module.rm, a module reference (NAME[@VERSION]).
struct ModuleRequest {
  std::string module;
};
Result<ModuleRequest> decode_module(std::string_view op, const Value& request);
Value encode(std::string_view op, const ModuleRequest& request);

// {name}: module.versions (a module) and agent.revoke (an agent).
struct NameRequest {
  std::string name;
};
Result<NameRequest> decode_name(std::string_view op, const Value& request);
Value encode(std::string_view op, const NameRequest& request);

// module.share {name, visibility, group?}
struct ShareRequest {
  std::string name;
  std::string visibility;
  std::string group;
};
Result<ShareRequest> decode_share(const Value& request);
Value encode(const ShareRequest& request);

// agent.add {name, host?}: host is the address the agent reaches slipwayd on.
struct AgentAddRequest {
  std::string name;
  std::string host = "127.0.0.1";
};
Result<AgentAddRequest> decode_agent_add(const Value& request);
Value encode(const AgentAddRequest& request);

// watch {id, state?, timeout_s?}: until the deployment reaches state
// (default Ready) or ends; timeout_s 0 waits forever.
struct WatchRequest {
  std::string id;
  std::string state = "Ready";
  int64_t timeout_s = 0;
};
Result<WatchRequest> decode_watch(const Value& request);
Value encode(const WatchRequest& request);

// logs {id, instance?, follow?}: instance "" for all of them.
struct LogsRequest {
  std::string id;
  std::string instance;
  bool follow = false;
};
Result<LogsRequest> decode_logs(const Value& request);
Value encode(const LogsRequest& request);

// events {follow?}
struct EventsRequest {
  bool follow = false;
};
Result<EventsRequest> decode_events(const Value& request);
Value encode(const EventsRequest& request);

// image.build {module, cloud?}: cloud "" for the configured default.
// image.list {name?}: name "" for every image. image.rm {name, cloud?}:
// cloud "" for every cloud.
struct ImageRequest {
  std::string op;  // kImageBuild, kImageList or kImageRm
  std::string name;
  std::string cloud;
};
Result<ImageRequest> decode_image(std::string_view op, const Value& request);
Value encode(const ImageRequest& request);

// Decodes `request` with the decoder of its operation, for tests and the
// fuzz target: the decoded request encoded again, or the decoder's error.
// Unknown operations give kUsage.
Result<Value> normalize(const Value& request);

}  // namespace slipway::control_protocol
