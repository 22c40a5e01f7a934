// Where a cloud is: its connector still preparing, ready for machines, or
// unusable and why. Asked of the provisioner on the event loop, never waited for.
#pragma once

#include <string>

namespace slipway::controller {

struct CloudState {
  enum class Phase { kUnknown, kPreparing, kReady, kUnavailable };
  Phase phase = Phase::kUnknown;
  std::string why;  // for kUnavailable: one sentence

  static CloudState unavailable(std::string reason) {
    return CloudState{Phase::kUnavailable, std::move(reason)};
  }
  // As `slipway status` shows it: "ready", "preparing", "unknown" or
  // "unavailable: WHY".
  std::string text() const {
    switch (phase) {
      case Phase::kPreparing:
        return "preparing";
      case Phase::kReady:
        return "ready";
      case Phase::kUnavailable:
        return "unavailable: " + why;
      case Phase::kUnknown:
        break;
    }
    return "unknown";
  }
};

}  // namespace slipway::controller
