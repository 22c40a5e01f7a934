// Time, injected: the controller's logic asks a Clock, so tests can move time
// by hand instead of sleeping.
#pragma once

#include <cstdint>

namespace slipway {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch: for records and display.
  virtual int64_t wall_ms() const = 0;
  // Milliseconds on a clock that never jumps: for timeouts and liveness.
  virtual int64_t steady_ms() const = 0;
};

// The real clocks. Thread-safe.
class SystemClock final : public Clock {
 public:
  int64_t wall_ms() const override;
  int64_t steady_ms() const override;
};

// A clock that moves only when told. Not thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : wall_(start_ms) {}
  int64_t wall_ms() const override { return wall_; }
  int64_t steady_ms() const override { return steady_; }
  void advance(int64_t ms) {
    wall_ += ms;
    steady_ += ms;
  }

 private:
  int64_t wall_;
  int64_t steady_ = 1'000'000;
};

}  // namespace slipway
