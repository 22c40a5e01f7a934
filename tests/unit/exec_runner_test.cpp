#include "agent/exec_runner.h"

#include <catch2/catch.hpp>

#include "agent_test_loop.h"

using namespace slipway;
using namespace slipway::agent;

namespace {

struct Execs {
  test::AgentLoop t;
  LingeringPipes lingering{t.loop};
  std::vector<proto::ExecResult> results;
  ExecRunner runner{t.loop, t.reaper, lingering, [this](proto::AgentMessage m) {
                      results.push_back(std::get<proto::ExecResult>(m));
                    }};
  std::vector<std::string> env = {"PATH=/usr/bin:/bin"};

  void run(uint64_t id, std::vector<std::string> argv, int64_t timeout_ms = 10000) {
    runner.run(proto::Exec{id, std::move(argv), timeout_ms}, env);
  }
  const proto::ExecResult* result(uint64_t id) const {
    for (const auto& r : results) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }
};

}  // namespace

TEST_CASE("exec captures stdout and stderr together with the exit code", "[agent][exec]") {
  Execs e;
  e.run(1, {"sh", "-c", "echo out; echo err >&2; exit 5"});
  REQUIRE(e.t.run_until([&] { return e.result(1) != nullptr; }));
  CHECK(e.result(1)->exit_code == 5);
  CHECK(e.result(1)->output == "out\nerr\n");
  CHECK(e.runner.running() == 0);
}

TEST_CASE("exec kills the command's group at its timeout and says 124", "[agent][exec]") {
  Execs e;
  int64_t start = e.t.clock.steady_ms();
  e.run(2, {"sh", "-c", "echo before; sleep 30 & sleep 30"}, 300);
  REQUIRE(e.t.run_until([&] { return e.result(2) != nullptr; }, 3000));
  CHECK(e.t.clock.steady_ms() - start < 2000);
  CHECK(e.result(2)->exit_code == 124);
  CHECK(e.result(2)->output.find("before\n") == 0);
}

TEST_CASE("exec of a missing command answers 127 at once", "[agent][exec]") {
  Execs e;
  e.run(3, {"no-such-command-anywhere", "x"});
  e.run(4, {});
  REQUIRE(e.results.size() == 2);
  CHECK(e.result(3)->exit_code == 127);
  CHECK(e.result(3)->output == "no-such-command-anywhere: command not found\n");
  CHECK(e.result(4)->exit_code == 127);
}

TEST_CASE("several execs run at once and output is capped at 1 MiB", "[agent][exec]") {
  Execs e;
  int64_t start = e.t.clock.steady_ms();
  e.run(5, {"sleep", "0.5"});
  e.run(6, {"sleep", "0.5"});
  e.run(7, {"head", "-c", "3000000", "/dev/zero"});
  CHECK(e.runner.running() == 3);
  REQUIRE(e.t.run_until([&] { return e.results.size() == 3; }, 5000));
  CHECK(e.t.clock.steady_ms() - start < 1200);  // not one after the other
  CHECK(e.result(5)->exit_code == 0);
  CHECK(e.result(7)->exit_code == 0);
  CHECK(e.result(7)->output.size() < ExecRunner::kMaxOutput + 100);
  CHECK(e.result(7)->output.find("[output truncated at 1 MiB]") != std::string::npos);
}
