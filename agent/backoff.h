// Jittered exponential back-off: each failure doubles the base delay up to a
// ceiling, and the delay actually used is drawn from [base/2, base], so a
// fleet of agents that lost the controller together does not return together.
#pragma once

#include <cstdint>
#include <functional>

namespace slipway::agent {

class Backoff {
 public:
  // `random` returns a uniform double in [0, 1); injected so tests are exact.
  Backoff(int64_t initial_ms, int64_t max_ms, std::function<double()> random);

  // The delay before the next attempt; grows the base for the one after.
  int64_t next();
  void reset() { base_ = initial_; }
  int64_t base() const { return base_; }

 private:
  int64_t initial_;
  int64_t max_;
  int64_t base_;
  std::function<double()> random_;
};

// A uniform double in [0, 1) from libsodium's generator.
double random_unit();

}  // namespace slipway::agent
