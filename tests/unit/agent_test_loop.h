// What the agent's unit tests share: a real EventLoop on the real clock, a
// ChildReaper polled by the loop (the test process has no signalfd), and a
// recorder of the messages an agent component sends to the controller.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "agent/child_process.h"
#include "agent/event_loop.h"
#include "common/clock.h"
#include "common/protocol.h"

namespace slipway::test {

class AgentLoop {
 public:
  AgentLoop() = default;

  // Runs the loop (and reaps children) until `done` holds or `timeout_ms`
  // passes; returns whether it held.
  bool run_until(const std::function<bool()>& done, int64_t timeout_ms = 5000) {
    int64_t deadline = clock.steady_ms() + timeout_ms;
    while (!done()) {
      if (clock.steady_ms() >= deadline) return false;
      loop.run_once(5);
      if (reap) reaper.reap();
    }
    return true;
  }
  // Runs the loop for `ms` whatever happens.
  void run_for(int64_t ms) {
    run_until([] { return false; }, ms);
  }

  // Off where the test itself runs children in other threads: reap() waits
  // for any child and would take their statuses.
  bool reap = true;
  SystemClock clock;
  agent::EventLoop loop{clock};
  agent::ChildReaper reaper;
};

// Collects agent-to-controller messages, as the link would send them.
struct Sent {
  std::vector<proto::AgentMessage> messages;

  std::function<bool(const proto::AgentMessage&)> sender() {
    return [this](const proto::AgentMessage& m) {
      messages.push_back(m);
      return true;
    };
  }

  template <typename T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const auto& m : messages) {
      if (const T* t = std::get_if<T>(&m)) out.push_back(*t);
    }
    return out;
  }
  template <typename T>
  size_t count() const {
    return all<T>().size();
  }
  // The types in order, e.g. "step_started step_done state_done", logs left out.
  std::string sequence() const {
    std::string out;
    for (const auto& m : messages) {
      if (std::holds_alternative<proto::Log>(m)) continue;
      if (!out.empty()) out += ' ';
      out += proto::type_name(m);
    }
    return out;
  }
  // Everything `step` wrote on `stream`, in seq order (checked).
  std::string output(const std::string& step, int64_t stream) const {
    std::string out;
    uint64_t expected = 0;
    for (const auto& log : all<proto::Log>()) {
      if (log.step != step || log.stream != stream) continue;
      if (log.seq != expected) return "<seq " + std::to_string(log.seq) + " out of order>";
      ++expected;
      out += log.data;
    }
    return out;
  }
};

}  // namespace slipway::test
