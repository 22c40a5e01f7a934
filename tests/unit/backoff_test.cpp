#include "agent/backoff.h"

#include <catch2/catch.hpp>

using slipway::agent::Backoff;

TEST_CASE("back-off doubles up to its ceiling and stays within its jitter band", "[agent]") {
  double r = 0.0;
  Backoff b(200, 1000, [&] { return r; });
  CHECK(b.next() == 100);  // lowest draw: half the base
  CHECK(b.next() == 200);
  CHECK(b.next() == 400);
  CHECK(b.next() == 500);  // base capped at 1000
  CHECK(b.next() == 500);
  r = 0.999;
  CHECK(b.next() == 999);
  b.reset();
  CHECK(b.next() == 199);
}

TEST_CASE("back-off never returns zero, so a retry loop cannot spin", "[agent]") {
  Backoff b(1, 1, [] { return 0.0; });
  for (int i = 0; i < 10; ++i) CHECK(b.next() >= 1);
}

TEST_CASE("two agents with different draws retry at different times", "[agent]") {
  Backoff a(1000, 30000, [] { return 0.1; });
  Backoff b(1000, 30000, [] { return 0.9; });
  CHECK(a.next() != b.next());
}
