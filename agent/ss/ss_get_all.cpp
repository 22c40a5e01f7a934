// ss-get-all [--timeout S] NODE KEY: one line "INSTANCE VALUE" per instance
// of NODE, waiting for each.
#include <cstdio>

#include "agent/ss/ss_command.h"

namespace slipway::agent::ss {

int get_all_main(int argc, char** argv) {
  const Command command{"ss-get-all", "ss-get-all [--timeout S] NODE KEY"};
  auto args = parse_args(argc, argv, {"--timeout"}, {});
  if (!args.ok()) return usage_error(command, args.error().message());
  if (args->help) return print_usage(command);
  if (args->words.size() != 2) return usage_error(command, "give a NODE and a KEY");
  proto::GetAll request;
  request.node = args->words[0];
  request.key = args->words[1];
  request.timeout_ms = 60000;
  if (const std::string* timeout = args->option("--timeout")) {
    auto ms = parse_seconds("--timeout", *timeout);
    if (!ms.ok()) return usage_error(command, ms.error().message());
    request.timeout_ms = *ms;
  }
  local::Answer answer;
  int code = run(command, request, request.node + ":" + request.key, &answer);
  if (code == 0) {
    for (const auto& line : answer.values) print_line(line);
  }
  return code;
}

}  // namespace slipway::agent::ss
