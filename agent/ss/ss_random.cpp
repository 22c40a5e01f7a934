// ss-random [-s N] [KEY]: prints N (default 12, 1..1024) random
// alphanumerics; with KEY, sets that parameter to them first (and prints
// nothing if that fails).
#include <cstdio>
#include <cstdlib>

#include "agent/ss/ss_command.h"
#include "common/crypto.h"

namespace slipway::agent::ss {

int random_main(int argc, char** argv) {
  const Command command{"ss-random", "ss-random [-s N] [KEY] (N from 1 to 1024, default 12)"};
  auto args = parse_args(argc, argv, {"-s", "--size"}, {});
  if (!args.ok()) return usage_error(command, args.error().message());
  if (args->help) return print_usage(command);
  if (args->words.size() > 1) return usage_error(command, "give at most one KEY");
  long size = 12;
  const std::string* given = args->option("-s");
  if (given == nullptr) given = args->option("--size");
  if (given != nullptr) {
    char* end = nullptr;
    size = std::strtol(given->c_str(), &end, 10);
    if (given->empty() || *end != '\0' || size < 1 || size > 1024) {
      return usage_error(command, "-s needs a number from 1 to 1024");
    }
  }
  std::string value = crypto::random_alphanumeric(static_cast<size_t>(size));
  if (args->words.size() == 1) {
    proto::Set request;
    request.key = args->words[0];
    request.value = value;
    int code = run(command, request, request.key, nullptr);
    if (code != 0) return code;
  }
  std::printf("%s\n", value.c_str());
  return 0;
}

}  // namespace slipway::agent::ss
