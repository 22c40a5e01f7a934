// <state_dir>/progress: the ids of the steps this machine has completed, one
// per line. A step id is appended and fsync'd before its step_done is sent,
// so a step that completed is never run again, whatever restarts.
//
// Not thread-safe: one owner on the agent's EventLoop.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::agent {

class ProgressFile {
 public:
  explicit ProgressFile(std::string path) : path_(std::move(path)) {}

  // Reads the file; a missing file is an empty progress. A torn last line
  // (a crash mid-append) is ignored.
  Status load();
  bool contains(const std::string& id) const { return ids_.count(id) != 0; }
  // Appends `id` durably. Ids holding a newline are refused.
  Status record(const std::string& id);
  std::vector<std::string> ids() const { return {ids_.begin(), ids_.end()}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::set<std::string> ids_;
};

}  // namespace slipway::agent
