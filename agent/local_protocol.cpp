#include "agent/local_protocol.h"

#include "common/value.h"

namespace slipway::agent::local {
namespace {

// Requests with no timeout of their own (set, abort, get --noblock) give the
// controller this long to come back.
constexpr int64_t kNoTimeoutWaitMs = 60000;
// Past its own timeout, a request gives the controller this long to answer it.
constexpr int64_t kGraceMs = 2000;
constexpr size_t kMaxName = 1024;

Value strings(const std::vector<std::string>& items) {
  Value array = Value::array();
  for (const auto& item : items) array.push(item);
  return array;
}

std::vector<std::string> strings_of(const Value& value) {
  std::vector<std::string> out;
  for (const auto& item : value.items()) out.push_back(item.str());
  return out;
}

struct Encoder {
  Value operator()(const proto::Get& r) const {
    return Value::object()
        .set("op", kGet)
        .set("key", r.key)
        .set("timeout_ms", r.timeout_ms)
        .set("wait", r.wait);
  }
  Value operator()(const proto::GetAll& r) const {
    return Value::object()
        .set("op", kGetAll)
        .set("node", r.node)
        .set("key", r.key)
        .set("timeout_ms", r.timeout_ms);
  }
  Value operator()(const proto::Set& r) const {
    return Value::object().set("op", kSet).set("key", r.key).set("value", r.value);
  }
  Value operator()(const proto::Barrier& r) const {
    return Value::object()
        .set("op", kBarrier)
        .set("name", r.name)
        .set("count", r.count)
        .set("nodes", strings(r.nodes))
        .set("timeout_ms", r.timeout_ms);
  }
  Value operator()(const proto::Abort& r) const {
    return Value::object().set("op", kAbort).set("reason", r.reason).set("cancel", r.cancel);
  }
};

Status check_name(const char* what, const std::string& name) {
  if (name.empty()) return Error(Code::kUsage, std::string("the request has no ") + what);
  if (name.size() > kMaxName)
    return Error(Code::kInvalidArgument, std::string("the ") + what + " is too long");
  return ok_status();
}

Status check_timeout(int64_t timeout_ms) {
  if (timeout_ms < 0) return Error(Code::kInvalidArgument, "a timeout may not be negative");
  return ok_status();
}

}  // namespace

std::string encode_request(const Request& request) {
  return std::visit(Encoder{}, request).pack();
}

Result<Request> decode_request(std::string_view payload) {
  auto decoded = Value::unpack(payload);
  if (!decoded.ok()) return Error(Code::kUsage, "the request is not valid msgpack");
  const Value& v = *decoded;
  const std::string& op = v["op"].str();
  if (op == kGet) {
    proto::Get r;
    r.key = v["key"].str();
    r.timeout_ms = v["timeout_ms"].as_int(60000);
    r.wait = v["wait"].as_bool(true);
    SLIPWAY_RETURN_IF_ERROR(check_name("key", r.key));
    SLIPWAY_RETURN_IF_ERROR(check_timeout(r.timeout_ms));
    return Request(r);
  }
  if (op == kGetAll) {
    proto::GetAll r;
    r.node = v["node"].str();
    r.key = v["key"].str();
    r.timeout_ms = v["timeout_ms"].as_int(60000);
    SLIPWAY_RETURN_IF_ERROR(check_name("node", r.node));
    SLIPWAY_RETURN_IF_ERROR(check_name("key", r.key));
    SLIPWAY_RETURN_IF_ERROR(check_timeout(r.timeout_ms));
    return Request(r);
  }
  if (op == kSet) {
    proto::Set r;
    r.key = v["key"].str();
    r.value = v["value"].str();
    SLIPWAY_RETURN_IF_ERROR(check_name("key", r.key));
    if (r.value.size() > proto::kMaxValueSize) {
      return Error(
          Code::kInvalidArgument,
          "the value is larger than " + std::to_string(proto::kMaxValueSize / 1024) + " KiB");
    }
    return Request(r);
  }
  if (op == kBarrier) {
    proto::Barrier r;
    r.name = v["name"].str();
    r.count = v["count"].as_int(0);
    r.nodes = strings_of(v["nodes"]);
    r.timeout_ms = v["timeout_ms"].as_int(0);
    SLIPWAY_RETURN_IF_ERROR(check_name("barrier name", r.name));
    SLIPWAY_RETURN_IF_ERROR(check_timeout(r.timeout_ms));
    if (r.count < 0) return Error(Code::kInvalidArgument, "a barrier count may not be negative");
    for (const auto& node : r.nodes) SLIPWAY_RETURN_IF_ERROR(check_name("node", node));
    return Request(r);
  }
  if (op == kAbort) {
    proto::Abort r;
    r.reason = v["reason"].str();
    r.cancel = v["cancel"].as_bool(false);
    if (r.reason.size() > proto::kMaxValueSize) {
      return Error(Code::kInvalidArgument, "the abort reason is too long");
    }
    return Request(r);
  }
  return Error(Code::kUsage, op.empty() ? std::string("the request has no op")
                                        : "unknown request \"" + op + "\"");
}

std::string encode_answer(const Answer& answer) {
  Value v = Value::object().set("code", answer.code).set("value", answer.value);
  v.set("values", strings(answer.values)).set("message", answer.message);
  return v.pack();
}

Result<Answer> decode_answer(std::string_view payload) {
  auto decoded = Value::unpack(payload);
  if (!decoded.ok() || !decoded->is_object() || !(*decoded)["code"].is_string()) {
    return Error(Code::kProtocol, "the agent's answer is malformed");
  }
  const Value& v = *decoded;
  Answer answer;
  answer.code = v["code"].str();
  answer.value = v["value"].str();
  answer.values = strings_of(v["values"]);
  answer.message = v["message"].str();
  return answer;
}

int64_t local_deadline_ms(const Request& request) {
  struct Visitor {
    int64_t operator()(const proto::Get& r) const {
      if (!r.wait) return kNoTimeoutWaitMs;
      return r.timeout_ms > 0 ? r.timeout_ms + kGraceMs : 0;
    }
    int64_t operator()(const proto::GetAll& r) const {
      return r.timeout_ms > 0 ? r.timeout_ms + kGraceMs : 0;
    }
    int64_t operator()(const proto::Set&) const { return kNoTimeoutWaitMs; }
    int64_t operator()(const proto::Barrier& r) const {
      return r.timeout_ms > 0 ? r.timeout_ms + kGraceMs : 0;
    }
    int64_t operator()(const proto::Abort&) const { return kNoTimeoutWaitMs; }
  };
  return std::visit(Visitor{}, request);
}

}  // namespace slipway::agent::local
