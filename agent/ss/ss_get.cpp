// ss-get [--timeout S] [--noblock] KEY: prints the value and a newline.
#include <cstdio>

#include "agent/ss/ss_command.h"

namespace slipway::agent::ss {

int get_main(int argc, char** argv) {
  const Command command{"ss-get", "ss-get [--timeout S] [--noblock] KEY"};
  auto args = parse_args(argc, argv, {"--timeout"}, {"--noblock"});
  if (!args.ok()) return usage_error(command, args.error().message());
  if (args->help) return print_usage(command);
  if (args->words.size() != 1) return usage_error(command, "give exactly one KEY");
  proto::Get request;
  request.key = args->words[0];
  request.timeout_ms = 60000;
  request.wait = args->option("--noblock") == nullptr;
  if (const std::string* timeout = args->option("--timeout")) {
    auto ms = parse_seconds("--timeout", *timeout);
    if (!ms.ok()) return usage_error(command, ms.error().message());
    request.timeout_ms = *ms;
  }
  local::Answer answer;
  int code = run(command, request, request.key, &answer);
  if (code == 0) print_line(answer.value);
  return code;
}

}  // namespace slipway::agent::ss
