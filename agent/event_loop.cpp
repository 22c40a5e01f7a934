#include "agent/event_loop.h"

#include <poll.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log.h"

namespace slipway::agent {

void EventLoop::watch_fd(int fd, short events, FdCallback callback) {
  unwatch_fd(fd);
  watches_[next_watch_++] = Watch{fd, events, std::move(callback)};
}

void EventLoop::unwatch_fd(int fd) {
  for (auto it = watches_.begin(); it != watches_.end();) {
    it = it->second.fd == fd ? watches_.erase(it) : std::next(it);
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

  items_.clear();
  ids_.clear();
  for (const auto& [id, w] : watches_) {
    items_.push_back(pollfd{w.fd, w.events, 0});
    ids_.push_back(id);
  }
  int ready = ::poll(items_.data(), items_.size(), static_cast<int>(wait));
  if (ready < 0 && errno != EINTR) LOG_ERROR("poll: %s", std::strerror(errno));
  for (size_t i = 0; ready > 0 && i < items_.size(); ++i) {
    short revents = items_[i].revents;
    if (revents == 0) continue;
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) revents |= POLLERR;
    auto it = watches_.find(ids_[i]);  // an earlier callback may have removed it
    if (it == watches_.end()) continue;
    FdCallback callback = it->second.on_fd;
    callback(revents);
    if (stopped_) return;
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
