#include "agent/event_loop.h"

#include <vector>

#include "common/log.h"

namespace slipway::agent {

void EventLoop::watch(zmq::socket_t& socket, Callback callback) {
  unwatch(socket);
  Watch w;
  w.socket = socket.handle();
  w.events = ZMQ_POLLIN;
  w.on_socket = std::move(callback);
  watches_[next_watch_++] = std::move(w);
}

void EventLoop::unwatch(zmq::socket_t& socket) {
  for (auto it = watches_.begin(); it != watches_.end();) {
    it = it->second.socket == socket.handle() ? watches_.erase(it) : std::next(it);
  }
}

void EventLoop::watch_fd(int fd, short events, FdCallback callback) {
  unwatch_fd(fd);
  Watch w;
  w.fd = fd;
  w.events = events;
  w.on_fd = std::move(callback);
  watches_[next_watch_++] = std::move(w);
}

void EventLoop::unwatch_fd(int fd) {
  for (auto it = watches_.begin(); it != watches_.end();) {
    it = it->second.socket == nullptr && it->second.fd == fd ? watches_.erase(it) : std::next(it);
  }
}

uint64_t EventLoop::after(int64_t delay_ms, Callback callback) {
  uint64_t id = next_timer_++;
  timers_.emplace(clock_.steady_ms() + (delay_ms < 0 ? 0 : delay_ms), id);
  timer_callbacks_[id] = std::move(callback);
  return id;
}

void EventLoop::cancel(uint64_t timer) {
  timer_callbacks_.erase(timer);
}

void EventLoop::run_once(int64_t max_wait_ms) {
  int64_t now = clock_.steady_ms();
  // Drop cancelled timers from the front so they do not shorten the wait.
  while (!timers_.empty() && !timer_callbacks_.count(timers_.begin()->second)) {
    timers_.erase(timers_.begin());
  }
  int64_t wait = max_wait_ms;
  if (!timers_.empty()) wait = std::min(wait, std::max<int64_t>(0, timers_.begin()->first - now));

  std::vector<zmq::pollitem_t> items;
  std::vector<uint64_t> ids;
  items.reserve(watches_.size());
  for (const auto& [id, w] : watches_) {
    items.push_back(zmq::pollitem_t{w.socket, w.fd, w.events, 0});
    ids.push_back(id);
  }
  int ready = 0;
  try {
    ready = zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait));
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) LOG_ERROR("poll: %s", e.what());
  }
  if (ready > 0) {
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].revents == 0) continue;
      auto it = watches_.find(ids[i]);  // an earlier callback may have removed it
      if (it == watches_.end()) continue;
      if (it->second.socket != nullptr) {
        Callback callback = it->second.on_socket;
        callback();
      } else {
        FdCallback callback = it->second.on_fd;
        callback(items[i].revents);
      }
      if (stopped_) return;
    }
  }
  now = clock_.steady_ms();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    uint64_t id = timers_.begin()->second;
    timers_.erase(timers_.begin());
    auto it = timer_callbacks_.find(id);
    if (it == timer_callbacks_.end()) continue;
    Callback callback = std::move(it->second);
    timer_callbacks_.erase(it);
    callback();
    if (stopped_) return;
  }
}

void EventLoop::run() {
  stopped_ = false;
  while (!stopped_) run_once(1000);
}

}  // namespace slipway::agent
