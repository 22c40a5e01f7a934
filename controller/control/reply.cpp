#include "controller/control/reply.h"

namespace slipway::controller {

void Reply::ok(Value result) const {
  if (sink_) sink_->send(Value::object().set("ok", true).set("result", std::move(result)), true);
}
void Reply::fail(const Error& error) const {
  if (sink_) {
    sink_->send(Value::object()
                    .set("ok", false)
                    .set("code", code_name(error.code()))
                    .set("error", error.message()),
                true);
  }
}
void Reply::finish(const Result<Value>& result) const {
  if (result.ok())
    ok(*result);
  else
    fail(result.error());
}
void Reply::event(Value event) const {
  if (sink_) sink_->send(Value::object().set("event", std::move(event)), false);
}
bool Reply::closed() const {
  return !sink_ || sink_->closed();
}
void Reply::on_close(std::function<void()> callback) const {
  if (sink_) sink_->on_close(std::move(callback));
}
void Reply::when_drained(std::function<void()> callback) const {
  if (sink_) sink_->when_drained(std::move(callback));
}

}  // namespace slipway::controller
