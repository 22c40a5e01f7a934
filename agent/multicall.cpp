#include "agent/multicall.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "agent/agent.h"
#include "agent/ss/ss_command.h"
#include "common/log.h"
#include "common/version.h"

namespace slipway::agent {
namespace {

const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

void usage(FILE* out) {
  std::fputs(
      "usage: slipway-agent [--context FILE | --user-data FILE] [--state-dir DIR] [--log-level "
      "LEVEL]\n"
      "       slipway-agent --version\n"
      "       slipway-agent ss-COMMAND ARGS...\n"
      "Connects back to the Slipway controller named in the machine's contextualization\n"
      "(FILE, /etc/slipway/context, or slipway.* words on the kernel command line), runs\n"
      "the machine's recipe and serves the ss-* commands on DIR/agent.sock\n"
      "(DIR defaults to /var/lib/slipway-agent).\n"
      "As ss-get, ss-set, ss-get-all, ss-display, ss-abort, ss-random or ss-barrier\n"
      "(symlinks to this binary, made in DIR/bin) it is that command:\n"
      "  ss-get [--timeout S] [--noblock] KEY\n"
      "  ss-set KEY VALUE\n"
      "  ss-get-all [--timeout S] NODE KEY\n"
      "  ss-display MESSAGE\n"
      "  ss-abort [REASON] | ss-abort --cancel\n"
      "  ss-random [-s N] [KEY]\n"
      "  ss-barrier [--timeout S] [--count N | --nodes a,b] NAME\n",
      out);
}

}  // namespace

int agent_main(int argc, char** argv) {
  log::set_tag("slipway-agent");
  AgentOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "slipway-agent: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--version") {
      std::printf("slipway-agent %s\n", SLIPWAY_VERSION);
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    } else if (arg == "--context") {
      options.context_path = value("--context");
    } else if (arg == "--user-data") {
      options.user_data_path = value("--user-data");
    } else if (arg == "--state-dir") {
      options.state_dir = value("--state-dir");
    } else if (arg == "--log-level") {
      auto level = log::parse_level(value("--log-level"));
      if (!level.ok()) {
        std::fprintf(stderr, "slipway-agent: --log-level: %s\n", level.error().message().c_str());
        return 2;
      }
      log::set_level(*level);
    } else {
      std::fprintf(stderr, "slipway-agent: unknown argument %s\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }
  block_agent_signals();
  auto context = find_contextualization(options.context_path, options.user_data_path);
  if (!context.ok()) {
    std::fprintf(stderr, "slipway-agent: %s\n", context.error().message().c_str());
    return 1;
  }
  Agent agent(options, std::move(*context));
  Status status = agent.run();
  if (!status.ok()) {
    std::fprintf(stderr, "slipway-agent: %s\n", status.error().message().c_str());
    return 1;
  }
  return 0;
}

int multicall_main(int argc, char** argv) {
  try {
    const char* name = base_name(argc > 0 ? argv[0] : "slipway-agent");
    if (ss::Main command = ss::find_command(name)) return command(argc, argv);
    // "slipway-agent ss-get KEY" works too, where no symlink was made.
    if (argc > 1) {
      if (ss::Main command = ss::find_command(argv[1])) return command(argc - 1, argv + 1);
    }
    return agent_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", base_name(argv[0]), e.what());
    return 1;
  }
}

}  // namespace slipway::agent
