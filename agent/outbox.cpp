#include "agent/outbox.h"

#include "common/log.h"

namespace slipway::agent {

size_t Outbox::weight(const proto::AgentMessage& message) {
  if (const auto* log = std::get_if<proto::Log>(&message)) return 64 + log->data.size();
  if (const auto* result = std::get_if<proto::ExecResult>(&message))
    return 64 + result->output.size();
  return 128;
}

void Outbox::post(proto::AgentMessage message) {
  if (queue_.empty() && send_now_(message)) return;
  size_t size = weight(message);
  if (std::holds_alternative<proto::Log>(message) && queued_bytes_ + size > kMaxQueuedBytes) {
    if (dropped_logs_++ == 0) {
      LOG_WARN(
          "the controller is not taking script output; dropping it (the scripts log keeps it)");
    }
    return;
  }
  queued_bytes_ += size;
  queue_.push_back(std::move(message));
  arm_retry();
}

void Outbox::flush() {
  while (!queue_.empty() && send_now_(queue_.front())) {
    queued_bytes_ -= weight(queue_.front());
    queue_.pop_front();
  }
  if (!queue_.empty()) arm_retry();
}

void Outbox::arm_retry() {
  // Covers a full send buffer on a live link; after a reconnection the
  // welcome flushes anyway.
  if (retry_timer_ != 0) return;
  retry_timer_ = loop_.after(100, [this] {
    retry_timer_ = 0;
    flush();
  });
}

}  // namespace slipway::agent
