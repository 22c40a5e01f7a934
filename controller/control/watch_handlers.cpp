#include "controller/control/watch_handlers.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <memory>

#include "controller/control/control_protocol.h"
#include "controller/control/deployment_view.h"

namespace slipway::controller {

namespace cp = control_protocol;

namespace {

int state_order(DeploymentState s) {
  return static_cast<int>(s);
}

// State of one streaming request, shared by its callbacks.
struct Stream {
  int watcher = 0;
  int event_subscriber = 0;
  bool done = false;
  int64_t last_log = 0;
  bool pending = false;  // an update is posted
};

Value log_value(const LogChunk& chunk) {
  return Value::object()
      .set("id", chunk.id)
      .set("instance", chunk.instance)
      .set("step", chunk.step)
      .set("stream", chunk.stream == 2 ? "stderr" : "stdout")
      .set("at", chunk.at)
      .set("data", chunk.data);
}

}  // namespace

void WatchHandlers::register_with(ControlServer& server) {
  server.handle(cp::kWatch, *this, &WatchHandlers::watch);
  server.handle(cp::kLogs, *this, &WatchHandlers::logs);
  server.handle(cp::kEvents, *this, &WatchHandlers::events);
}

void WatchHandlers::tick() {
  const int64_t now = clock_.steady_ms();
  std::vector<std::function<void()>> expired;
  std::erase_if(deadlines_, [&](const Deadline& d) {
    if (!d.open()) return true;
    if (now < d.at) return false;
    expired.push_back(d.expire);
    return true;
  });
  for (const auto& expire : expired) expire();
}

void WatchHandlers::watch(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_watch(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  const std::string id = decoded->id;
  auto first = engine_.find(caller, id);
  if (!first.ok()) return reply.fail(first.error());
  std::string target_name = decoded->state;
  auto parsed = parse_state(target_name);
  if (!parsed.ok()) {
    return reply.fail(Error(Code::kUsage,
                            "--state must be one of Initializing, Provisioning, Executing, "
                            "SendingReports, Ready, Finalizing, Done, Aborted, Cancelled"));
  }
  const DeploymentState target = *parsed;
  auto stream = std::make_shared<Stream>();
  auto snapshot = [this, id, caller]() -> Result<Value> {
    auto d = engine_.find(caller, id);
    if (!d.ok()) return d.error();
    std::map<std::string, std::optional<std::string>> params;
    if (engine_.active(id)) {
      auto list = engine_.parameters().list(id, "*");
      params = {list.begin(), list.end()};
    } else if (auto stored = engine_.parameters().list_stored(id, "*"); stored.ok()) {
      params = {stored->begin(), stored->end()};
    }
    return deployment_detail(*d, clock_.wall_ms(), params).set("reached_ready", d->reached_ready);
  };
  auto reached = [target](const Value& v) {
    auto state = parse_state(v["state"].str());
    if (!state.ok()) return true;  // a snapshot names a state of state_name(); never here
    const DeploymentState s = *state;
    if (is_final(s)) return true;
    if (is_final(target)) return false;  // waiting for an end: only an end will do
    // A run finalizing is on its way to its end: say how it ended, not
    // that it passed through Ready.
    if (s == DeploymentState::kFinalizing) return target == DeploymentState::kFinalizing;
    return state_order(s) >= state_order(target);
  };
  auto finish = [this, stream, reply](Result<Value> result) {
    if (stream->done) return;
    stream->done = true;
    engine_.unsubscribe(stream->watcher);
    reply.finish(result);
  };
  auto update = [stream, snapshot, reached, finish, reply]() {
    if (stream->done) return;
    auto v = snapshot();
    if (!v.ok()) return finish(v.error());
    reply.event(*v);
    if (reached(*v)) finish(*v);
  };
  // Notices come in the middle of transitions (Ready, then at once
  // Finalizing); snapshots are taken once the engine has settled.
  stream->watcher = engine_.subscribe([this, id, update, stream](const EngineNotice& notice) {
    if (notice.deployment != id || notice.kind == EngineNotice::Kind::kLog || stream->pending)
      return;
    stream->pending = true;
    boost::asio::post(io_, [update, stream] {
      stream->pending = false;
      update();
    });
  });
  auto timeout = std::min<int64_t>(decoded->timeout_s, int64_t{366} * 24 * 3600);
  if (timeout > 0) {
    deadlines_.push_back(
        Deadline{clock_.steady_ms() + timeout * 1000, [stream] { return !stream->done; },
                 [finish, id, target_name] {
                   finish(Error(Code::kTimeout,
                                "deployment " + id + " did not reach " + target_name + " in time"));
                 }});
  }
  reply.on_close([this, stream] {
    stream->done = true;
    engine_.unsubscribe(stream->watcher);
  });
  update();
}

void WatchHandlers::logs(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_logs(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  const std::string id = decoded->id;
  const std::string instance = decoded->instance;
  auto d = engine_.find(caller, id);
  if (!d.ok()) return reply.fail(d.error());
  if (!instance.empty() && !d->instances.count(instance)) {
    return reply.fail(Error(Code::kNotFound, "deployment " + id + " has no instance " + instance));
  }
  auto stream = std::make_shared<Stream>();
  auto drain = [this, stream, id, instance, reply]() -> Status {
    for (;;) {
      SLIPWAY_ASSIGN_OR_RETURN(auto chunks,
                               engine_.logs().read(id, instance, stream->last_log, 500));
      for (const auto& chunk : chunks) {
        reply.event(log_value(chunk));
        stream->last_log = chunk.id;
      }
      if (chunks.size() < 500) return ok_status();
    }
  };
  Status drained = drain();
  if (!drained.ok()) return reply.fail(drained.error());
  bool follow = decoded->follow && engine_.active(id) != nullptr;
  if (!follow) return reply.ok(Value::object().set("id", id));
  // As for watch: look once the engine has settled, so the end of the
  // deployment (which it announces before it is over) is seen.
  stream->watcher = engine_.subscribe([this, stream, id, drain, reply](const EngineNotice& notice) {
    if (stream->done || notice.deployment != id || stream->pending) return;
    stream->pending = true;
    boost::asio::post(io_, [this, stream, id, drain, reply] {
      stream->pending = false;
      if (stream->done) return;
      Status more = drain();
      if (!more.ok() || engine_.active(id) == nullptr) {
        stream->done = true;
        engine_.unsubscribe(stream->watcher);
        if (more.ok())
          reply.ok(Value::object().set("id", id));
        else
          reply.fail(more.error());
      }
    });
  });
  reply.on_close([this, stream] {
    stream->done = true;
    engine_.unsubscribe(stream->watcher);
  });
}

void WatchHandlers::events(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_events(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  auto visible = [this, caller](const Event& e) {
    if (caller.admin) return true;
    return !e.deployment.empty() && engine_.find(caller, e.deployment).ok();
  };
  auto recent = events_.recent("", 200);
  if (!recent.ok()) return reply.fail(recent.error());
  Value list = Value::array();
  for (const auto& e : *recent) {
    if (visible(e)) list.push(e.to_value());
  }
  if (!decoded->follow) return reply.ok(std::move(list));
  for (const auto& e : list.items()) reply.event(e);
  auto stream = std::make_shared<Stream>();
  stream->event_subscriber = events_.subscribe([reply, visible](const Event& e) {
    if (visible(e)) reply.event(e.to_value());
  });
  reply.on_close([this, stream] { events_.unsubscribe(stream->event_subscriber); });
}

}  // namespace slipway::controller
