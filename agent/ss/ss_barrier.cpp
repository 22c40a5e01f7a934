// ss-barrier [--timeout S] [--count N | --nodes a,b] NAME: blocks until the
// barrier NAME is reached by every live instance (or N of them, or every
// instance of the nodes named). No timeout unless one is given.
#include <cstdlib>

#include "agent/ss/ss_command.h"

namespace slipway::agent::ss {

int barrier_main(int argc, char** argv) {
  const Command command{"ss-barrier", "ss-barrier [--timeout S] [--count N | --nodes a,b] NAME"};
  auto args = parse_args(argc, argv, {"--timeout", "--count", "--nodes"}, {});
  if (!args.ok()) return usage_error(command, args.error().message());
  if (args->help) return print_usage(command);
  if (args->words.size() != 1) return usage_error(command, "give exactly one barrier NAME");
  const std::string* count = args->option("--count");
  const std::string* nodes = args->option("--nodes");
  if (count != nullptr && nodes != nullptr) {
    return usage_error(command, "give --count or --nodes, not both");
  }
  proto::Barrier request;
  request.name = args->words[0];
  request.timeout_ms = 0;
  if (count != nullptr) {
    char* end = nullptr;
    long n = std::strtol(count->c_str(), &end, 10);
    if (count->empty() || *end != '\0' || n < 1 || n > 1000000) {
      return usage_error(command, "--count needs a positive number");
    }
    request.count = n;
  }
  if (nodes != nullptr) {
    size_t start = 0;
    while (start <= nodes->size()) {
      size_t comma = nodes->find(',', start);
      if (comma == std::string::npos) comma = nodes->size();
      std::string node = nodes->substr(start, comma - start);
      if (node.empty()) return usage_error(command, "--nodes needs names like a,b");
      request.nodes.push_back(node);
      start = comma + 1;
    }
  }
  if (const std::string* timeout = args->option("--timeout")) {
    auto ms = parse_seconds("--timeout", *timeout);
    if (!ms.ok()) return usage_error(command, ms.error().message());
    request.timeout_ms = *ms;
  }
  return run(command, request, "barrier " + request.name, nullptr);
}

}  // namespace slipway::agent::ss
