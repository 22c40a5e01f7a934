// ss-abort [REASON] raises the deployment's abort flag; ss-abort --cancel
// clears it. Several words of REASON are joined with spaces.
#include "agent/ss/ss_command.h"

namespace slipway::agent::ss {

int abort_main(int argc, char** argv) {
  const Command command{"ss-abort", "ss-abort [REASON] | ss-abort --cancel"};
  auto args = parse_args(argc, argv, {}, {"--cancel"});
  if (!args.ok()) return usage_error(command, args.error().message());
  if (args->help) return print_usage(command);
  proto::Abort request;
  request.cancel = args->option("--cancel") != nullptr;
  if (request.cancel && !args->words.empty()) {
    return usage_error(command, "--cancel takes no REASON");
  }
  for (const auto& word : args->words) {
    request.reason += (request.reason.empty() ? "" : " ") + word;
  }
  if (request.reason.size() > proto::kMaxValueSize) {
    return fail(command, Code::kInvalidArgument, "the reason is larger than 64 KiB");
  }
  return run(command, request, "the abort flag", nullptr);
}

}  // namespace slipway::agent::ss
