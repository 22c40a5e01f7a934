// Runs the items of a batch on a few threads: launching or terminating a
// machine is mostly waiting for helpers, qemu and the kernel, so a batch
// of twenty should not take twenty times one.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace slipway::connectors {

// Calls fn(i) for every i in [0, n), on at most `max_threads` threads, and
// returns when all calls have. fn must be safe to call concurrently.
inline void parallel_for(size_t n, size_t max_threads, const std::function<void(size_t)>& fn) {
  const size_t threads = std::min(n, std::max<size_t>(max_threads, 1));
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
}

}  // namespace slipway::connectors
