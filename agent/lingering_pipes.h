// Output pipes that outlive the process they were made for. A deployment
// script that starts a service with '&' leaves the service holding the
// step's stdout and stderr; the step is over when the script exits, but the
// pipes stay read until their last writer is gone, so a chatty service never
// dies of SIGPIPE. What they carry goes to a sink (the scripts log) or nowhere.
//
// Not thread-safe: runs on the agent's EventLoop.
#pragma once

#include <deque>
#include <functional>
#include <string_view>

#include "agent/event_loop.h"

namespace slipway::agent {

class LingeringPipes {
 public:
  using Sink = std::function<void(std::string_view data)>;

  // Past this many pipes the oldest is closed (its writers may then get SIGPIPE).
  static constexpr size_t kMaxPipes = 64;

  explicit LingeringPipes(EventLoop& loop) : loop_(loop) {}
  ~LingeringPipes();
  LingeringPipes(const LingeringPipes&) = delete;
  LingeringPipes& operator=(const LingeringPipes&) = delete;

  // Takes ownership of the non-blocking read end `fd`; `sink` may be empty.
  void adopt(int fd, Sink sink);
  size_t size() const { return fds_.size(); }

 private:
  void on_readable(int fd, const Sink& sink);
  void close(int fd);

  EventLoop& loop_;
  std::deque<int> fds_;
};

}  // namespace slipway::agent
