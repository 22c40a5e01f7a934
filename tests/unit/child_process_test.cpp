#include "agent/child_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>

#include "agent/lingering_pipes.h"
#include "agent_test_loop.h"

using namespace slipway;
using namespace slipway::agent;

namespace {

// Runs `argv` to completion; returns (exit code, stdout + stderr).
std::pair<int, std::string> run_child(test::AgentLoop& t, SpawnOptions options) {
  auto child = spawn(options);
  REQUIRE(child.ok());
  int code = -1;
  t.reaper.adopt(child->pid, [&](int status) { code = exit_code_of(status); });
  std::string output;
  bool out_open = true, err_open = child->err_fd >= 0;
  REQUIRE(t.run_until([&] {
    if (out_open) out_open = read_available(child->out_fd, output, 1 << 20);
    if (err_open) err_open = read_available(child->err_fd, output, 1 << 20);
    return code >= 0 && !out_open && !err_open;
  }));
  ::close(child->out_fd);
  if (child->err_fd >= 0) ::close(child->err_fd);
  return {code, output};
}

}  // namespace

TEST_CASE("a child runs in its own process group with its own environment", "[agent][process]") {
  test::AgentLoop t;
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "echo \"$GREETING\"; cut -d' ' -f5 /proc/$$/stat; echo $$"};
  options.env = {"GREETING=hello", "PATH=/usr/bin:/bin"};
  options.merge_output = true;
  auto [code, output] = run_child(t, options);
  CHECK(code == 0);
  // Its process group id is its own pid.
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = output.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(output.substr(at, nl - at));
  }
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "hello");
  CHECK(lines[1] == lines[2]);
}

TEST_CASE("a child reads /dev/null and inherits no other descriptor", "[agent][process]") {
  test::AgentLoop t;
  int leak = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  REQUIRE(leak > 2);
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c",
                  "cat; test -e /proc/self/fd/" + std::to_string(leak) + " && echo leaked; exit 0"};
  auto [code, output] = run_child(t, options);
  ::close(leak);
  CHECK(code == 0);
  CHECK(output.empty());
}

TEST_CASE("exit codes follow the shell: 128 + the signal that killed it", "[agent][process]") {
  test::AgentLoop t;
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "exit 7"};
  CHECK(run_child(t, options).first == 7);
  options.argv = {"/bin/sh", "-c", "kill -KILL $$"};
  CHECK(run_child(t, options).first == 128 + SIGKILL);
}

TEST_CASE("a command that does not exist fails to spawn with a clear error", "[agent][process]") {
  SpawnOptions options;
  options.argv = {"no-such-command-anywhere"};
  options.env = {"PATH=/usr/bin:/bin"};
  auto missing = spawn(options);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == Code::kNotFound);
  CHECK(missing.error().message() == "no-such-command-anywhere: command not found");

  options.argv = {"/etc/passwd"};  // exists, not executable
  auto refused = spawn(options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message().find("cannot run /etc/passwd") != std::string::npos);
}

TEST_CASE("the reaper gives each status to the owner of the pid and drops the others",
          "[agent][process]") {
  test::AgentLoop t;
  // A child nobody adopted, as an orphan would be for PID 1.
  pid_t stranger = ::fork();
  if (stranger == 0) ::_exit(3);
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "exit 5"};
  auto child = spawn(options);
  REQUIRE(child.ok());
  int code = -1;
  t.reaper.adopt(child->pid, [&](int status) { code = exit_code_of(status); });
  REQUIRE(t.run_until([&] { return code >= 0; }));
  CHECK(code == 5);
  CHECK_FALSE(t.reaper.owns(child->pid));
  // The stranger was reaped too (no zombie left), its status dropped.
  REQUIRE(t.run_until([&] { return ::waitpid(stranger, nullptr, WNOHANG) < 0; }));
  ::close(child->out_fd);
  ::close(child->err_fd);
}

TEST_CASE("signal_group stops a child and everything it started", "[agent][process]") {
  test::AgentLoop t;
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "sleep 30 & sleep 30; wait"};
  auto child = spawn(options);
  REQUIRE(child.ok());
  int code = -1;
  t.reaper.adopt(child->pid, [&](int status) { code = exit_code_of(status); });
  t.run_for(100);
  signal_group(child->pid, SIGKILL);
  REQUIRE(t.run_until([&] { return code >= 0; }, 3000));
  CHECK(code == 128 + SIGKILL);
  // The background sleep held the pipe; it is gone as well, so the pipe ends.
  std::string rest;
  REQUIRE(t.run_until([&] { return !read_available(child->out_fd, rest, 1 << 20); }, 3000));
  ::close(child->out_fd);
  ::close(child->err_fd);
}

TEST_CASE("lingering pipes are read to their end", "[agent][process]") {
  test::AgentLoop t;
  LingeringPipes lingering(t.loop);
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "(sleep 0.2; echo late) & echo early"};
  options.merge_output = true;
  auto child = spawn(options);
  REQUIRE(child.ok());
  bool exited = false;
  t.reaper.adopt(child->pid, [&](int) { exited = true; });
  REQUIRE(t.run_until([&] { return exited; }));
  std::string seen;
  lingering.adopt(child->out_fd, [&](std::string_view data) { seen.append(data); });
  REQUIRE(t.run_until([&] { return lingering.size() == 0; }, 3000));
  CHECK(seen == "early\nlate\n");
}

TEST_CASE("find_executable looks along PATH", "[agent][process]") {
  CHECK(find_executable("sh", "/nonexistent:/bin") == "/bin/sh");
  CHECK(find_executable("./x", "") == "./x");
  CHECK(find_executable("no-such-command-anywhere", "/bin").empty());
  CHECK(env_value({"A=1", "PATH=/x", "PATHX=2"}, "PATH") == "/x");
  CHECK(env_value({"A=1"}, "PATH").empty());
}
