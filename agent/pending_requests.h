// The ss-* requests the agent has forwarded to the controller and not yet
// answered. Each gets a fresh id and becomes a get/get_all/set/barrier/abort
// message; the controller's `reply` with that id answers it. Every request is
// idempotent, so all of them are sent again after each welcome, and one made
// while the link is down simply waits for it.
//
// Local answers, besides the controller's:
//   - "aborted" for every waiting request (but ss-abort's own) when the
//     deployment's abort flag rises: abort_all();
//   - "unavailable" once a request's local deadline (local_deadline_ms())
//     has passed while the link is down.
// Whichever answer comes first wins; a later one finds no request and is dropped.
//
// Not thread-safe: runs on the agent's EventLoop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "agent/event_loop.h"
#include "agent/local_protocol.h"

namespace slipway::agent {

class PendingRequests {
 public:
  using SendNow = std::function<bool(const proto::AgentMessage&)>;
  using LinkReady = std::function<bool()>;
  using OnAnswer = std::function<void(const local::Answer&)>;

  PendingRequests(EventLoop& loop, SendNow send_now, LinkReady link_ready);
  ~PendingRequests();
  PendingRequests(const PendingRequests&) = delete;
  PendingRequests& operator=(const PendingRequests&) = delete;

  // A fresh request id; ids of one agent run never repeat, and a restarted
  // agent starts from another random point, so late replies meant for an
  // earlier run find nothing.
  uint64_t next_id() { return next_id_++; }

  // Forwards `request` (sent now if the link is up). `on_answer` is called
  // once, later, unless cancel() comes first. Returns the request's id.
  uint64_t submit(local::Request request, OnAnswer on_answer);
  // Forgets a request whose asker went away.
  void cancel(uint64_t id);

  // True when `reply` answered one of these requests.
  bool on_reply(const proto::Reply& reply);
  // Sends every waiting request again.
  void on_welcome();
  // The link went down: requests past their deadline are answered "unavailable".
  void on_lost();
  // Answers every waiting request except ss-abort's with "aborted".
  void abort_all(const std::string& reason);

  size_t size() const { return requests_.size(); }

 private:
  struct Pending {
    local::Request request;
    OnAnswer on_answer;
    uint64_t timer = 0;
    bool expired = false;
  };

  void send(uint64_t id, const Pending& pending);
  void answer(uint64_t id, const local::Answer& answer);

  EventLoop& loop_;
  SendNow send_now_;
  LinkReady link_ready_;
  uint64_t next_id_;
  std::map<uint64_t, Pending> requests_;
};

}  // namespace slipway::agent
