#include "common/clock.h"

#include <ctime>

namespace slipway {
namespace {
int64_t read(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
}  // namespace

int64_t SystemClock::wall_ms() const {
  return read(CLOCK_REALTIME);
}
int64_t SystemClock::steady_ms() const {
  return read(CLOCK_MONOTONIC);
}

}  // namespace slipway
