// The agent's event loop: poll(2) over file descriptors, plus one-shot
// timers. Small on purpose: the agent is a static binary that must stay
// under 3 MiB and idle under 4 MiB.
//
// Not thread-safe: one thread runs it. Callbacks may add and remove watches
// and timers, including their own.
#pragma once

#include <poll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "common/clock.h"

namespace slipway::agent {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using FdCallback = std::function<void(short revents)>;

  explicit EventLoop(const Clock& clock) : clock_(clock) {}

  // Calls `callback` with the revents whenever `fd` is ready for `events`
  // (POLLIN, POLLOUT). A hang-up or error shows in revents as POLLERR, with
  // POLLIN when there is still something to read.
  void watch_fd(int fd, short events, FdCallback callback);
  void unwatch_fd(int fd);

  // Calls `callback` once, `delay_ms` from now. Returns an id for cancel().
  uint64_t after(int64_t delay_ms, Callback callback);
  void cancel(uint64_t timer);

  // Waits at most `max_wait_ms` for something to happen and handles it.
  void run_once(int64_t max_wait_ms);
  // Runs until stop().
  void run();
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  const Clock& clock() const { return clock_; }

 private:
  struct Watch {
    int fd = -1;
    short events = 0;
    FdCallback on_fd;
  };
  const Clock& clock_;
  std::map<uint64_t, Watch> watches_;  // by insertion order
  uint64_t next_watch_ = 1;
  std::multimap<int64_t, uint64_t> timers_;  // deadline -> id
  std::map<uint64_t, Callback> timer_callbacks_;
  uint64_t next_timer_ = 1;
  bool stopped_ = false;
  std::vector<pollfd> items_;  // reused by run_once()
  std::vector<uint64_t> ids_;
};

}  // namespace slipway::agent
