#include "agent/backoff.h"

#include <algorithm>

#include "common/crypto.h"

namespace slipway::agent {

Backoff::Backoff(int64_t initial_ms, int64_t max_ms, std::function<double()> random)
    : initial_(std::max<int64_t>(1, initial_ms)),
      max_(std::max(initial_, max_ms)),
      base_(initial_),
      random_(std::move(random)) {}

int64_t Backoff::next() {
  int64_t delay =
      base_ / 2 + static_cast<int64_t>(random_() * static_cast<double>(base_ - base_ / 2));
  base_ = std::min(max_, base_ * 2);
  return std::max<int64_t>(1, delay);
}

double random_unit() {
  return static_cast<double>(crypto::random_below(1u << 30)) / static_cast<double>(1u << 30);
}

}  // namespace slipway::agent
