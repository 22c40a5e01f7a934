// <state_dir>/scripts.log: every step's output, stdout and stderr as they
// came, under a header line per step and a footer with its exit code. It is
// uploaded as the report "_slipway/scripts.log".
//
// Not thread-safe: one owner on the agent's EventLoop. Write errors are
// logged once and otherwise ignored: the log must never stop a recipe.
#pragma once

#include <string>
#include <string_view>

namespace slipway::agent {

class ScriptsLog {
 public:
  explicit ScriptsLog(std::string path) : path_(std::move(path)) {}
  ~ScriptsLog();
  ScriptsLog(const ScriptsLog&) = delete;
  ScriptsLog& operator=(const ScriptsLog&) = delete;

  void begin_step(const std::string& id, const std::string& what);
  void append(std::string_view data);
  void end_step(const std::string& id, int exit_code);
  const std::string& path() const { return path_; }

 private:
  void write(std::string_view data);

  std::string path_;
  int fd_ = -1;
  bool failed_ = false;
  bool at_line_start_ = true;
};

}  // namespace slipway::agent
