// The agent's event loop: zmq_poll over ZeroMQ sockets and plain file
// descriptors, plus one-shot timers. Small on purpose: the agent is a static
// binary that must stay under 3 MiB and idle under 4 MiB.
//
// Not thread-safe: one thread runs it. Callbacks may add and remove watches
// and timers, including their own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <zmq.hpp>

#include "common/clock.h"

namespace slipway::agent {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using FdCallback = std::function<void(short revents)>;

  explicit EventLoop(const Clock& clock) : clock_(clock) {}

  // Calls `callback` whenever `socket` has a message to read.
  void watch(zmq::socket_t& socket, Callback callback);
  void unwatch(zmq::socket_t& socket);
  // Calls `callback` with the revents whenever `fd` is ready for `events`.
  // Both are zmq_poll flags: ZMQ_POLLIN, ZMQ_POLLOUT, and ZMQ_POLLERR in
  // revents for a hang-up or error (these differ from poll(2)'s POLLOUT...).
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
    void* socket = nullptr;
    int fd = -1;
    short events = 0;
    Callback on_socket;
    FdCallback on_fd;
  };
  const Clock& clock_;
  std::map<uint64_t, Watch> watches_;  // by insertion order
  uint64_t next_watch_ = 1;
  std::multimap<int64_t, uint64_t> timers_;  // deadline -> id
  std::map<uint64_t, Callback> timer_callbacks_;
  uint64_t next_timer_ = 1;
  bool stopped_ = false;
};

}  // namespace slipway::agent
