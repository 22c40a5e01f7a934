// Messages to the controller that expect no answer (step_started, log,
// step_done, state_done, exec_result): sent at once when the link is up and
// nothing is waiting, else queued in order and flushed after the next
// welcome (and retried while the link's send buffer is full). Requests that do get
// an answer are resent by their owners instead (PendingRequests, ReportUploader).
//
// The queue is bounded: past kMaxQueuedBytes, log chunks are dropped (they
// are still in the scripts log, which is uploaded as a report); other
// messages are always kept.
//
// Not thread-safe: runs on the agent's EventLoop.
#pragma once

#include <deque>
#include <functional>

#include "agent/event_loop.h"
#include "common/protocol.h"

namespace slipway::agent {

class Outbox {
 public:
  // Sends one message now; false when it could not (link down, queue full).
  using SendNow = std::function<bool(const proto::AgentMessage&)>;

  static constexpr size_t kMaxQueuedBytes = 8 << 20;

  Outbox(EventLoop& loop, SendNow send_now) : loop_(loop), send_now_(std::move(send_now)) {}
  ~Outbox() { loop_.cancel(retry_timer_); }
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  void post(proto::AgentMessage message);
  // Sends what is queued, in order, as far as the link takes it.
  void flush();

  size_t queued() const { return queue_.size(); }
  uint64_t dropped_logs() const { return dropped_logs_; }

 private:
  static size_t weight(const proto::AgentMessage& message);
  void arm_retry();

  EventLoop& loop_;
  SendNow send_now_;
  std::deque<proto::AgentMessage> queue_;
  size_t queued_bytes_ = 0;
  uint64_t dropped_logs_ = 0;
  uint64_t retry_timer_ = 0;
};

}  // namespace slipway::agent
