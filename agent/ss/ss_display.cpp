// ss-display MESSAGE: sets this instance's "statecustom", which
// `slipway show` displays. Several words are joined with spaces.
#include "agent/ss/ss_command.h"

namespace slipway::agent::ss {

int display_main(int argc, char** argv) {
  const Command command{"ss-display", "ss-display MESSAGE"};
  auto args = parse_args(argc, argv, {}, {});
  if (!args.ok()) return usage_error(command, args.error().message());
  if (args->help) return print_usage(command);
  if (args->words.empty()) return usage_error(command, "give a MESSAGE");
  proto::Set request;
  request.key = "statecustom";
  for (const auto& word : args->words) {
    request.value += (request.value.empty() ? "" : " ") + word;
  }
  if (request.value.size() > proto::kMaxValueSize) {
    return fail(command, Code::kInvalidArgument, "the message is larger than 64 KiB");
  }
  return run(command, request, "statecustom", nullptr);
}

}  // namespace slipway::agent::ss
