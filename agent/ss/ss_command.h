// The ss-* commands (SPEC section 5): the multi-call binary's other faces.
// Each asks the agent over its local socket (agent/local_protocol.h) and
// exits with ss_exit_code() of the answer: 0 done; 1 not set (--noblock);
// 2 usage; 4 agent or controller unreachable; 6 permission denied;
// 8 deployment aborted; 9 timeout. Errors go to stderr as one sentence
// prefixed by the command's name.
//
// Thread-safe: each command runs alone in its own process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/local_protocol.h"
#include "common/status.h"

namespace slipway::agent::ss {

// Where the agent listens unless SLIPWAY_AGENT_SOCKET says otherwise.
inline constexpr const char* kDefaultSocket = "/var/lib/slipway-agent/agent.sock";

int get_main(int argc, char** argv);
int set_main(int argc, char** argv);
int get_all_main(int argc, char** argv);
int display_main(int argc, char** argv);
int abort_main(int argc, char** argv);
int random_main(int argc, char** argv);
int barrier_main(int argc, char** argv);

// The command for a program name ("ss-get"), or nullptr.
using Main = int (*)(int, char**);
Main find_command(const std::string& name);

// ---------------------------------------------------------------- helpers

// A command's name and one-line usage, for its messages.
struct Command {
  const char* name;
  const char* usage;  // without "usage: "
};

// The parsed command line: options (with their values) and the other words.
struct Args {
  std::vector<std::pair<std::string, std::string>> options;  // in order
  std::vector<std::string> words;
  bool help = false;
  const std::string* option(const std::string& name) const;  // the last one given
};

// Parses argv[1..]. `with_value` and `flags` list the options the command
// knows ("--timeout", "-s"; "--noblock"); "--NAME=VALUE" works too, "--"
// ends the options, and a single "-" or a word like "-5" is a word. An
// unknown "--option" or a missing value fails with kUsage.
Result<Args> parse_args(int argc, char** argv, const std::vector<std::string>& with_value,
                        const std::vector<std::string>& flags);

// Seconds ("60", "0.5") to milliseconds; fails with kUsage.
Result<int64_t> parse_seconds(const std::string& option, const std::string& text);

// Prints "NAME: WHY (usage: USAGE)" on stderr and returns 2.
int usage_error(const Command& command, const std::string& why);
// Prints the usage on stdout and returns 0 (for --help).
int print_usage(const Command& command);
// Prints "NAME: MESSAGE" on stderr and returns ss_exit_code(code).
int fail(const Command& command, Code code, const std::string& message);

// Writes `text` and a newline to stdout, whatever bytes it holds.
void print_line(const std::string& text);

// Sends one request to the agent and waits for its answer. Fails with
// kUnavailable when the agent cannot be reached and kPermissionDenied when
// its socket may not be used.
Result<local::Answer> call(const local::Request& request);

// Runs `request` and returns the exit code; on failure prints the answer's
// message (or `subject` and the code) first. On success `*answer` holds it.
int run(const Command& command, const local::Request& request, const std::string& subject,
        local::Answer* answer);

}  // namespace slipway::agent::ss
