// Live progress of a deployment on stderr (deploy --wait, wait): one line
// when the state changes, and one per instance whose status, phase or
// statecustom changes, each with the time since the watch began.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "common/value.h"

namespace slipway::cli {

class ProgressPrinter {
 public:
  explicit ProgressPrinter(FILE* out) : out_(out), start_(std::chrono::steady_clock::now()) {}
  // Prints what changed since the last snapshot (a deployment detail).
  void update(const Value& snapshot);

 private:
  FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::string state_;
  bool aborted_ = false;
  std::map<std::string, std::string> instances_;  // name -> last line printed
};

}  // namespace slipway::cli
