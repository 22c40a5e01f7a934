// ss-set KEY VALUE: sets one of this instance's parameters. VALUE "-" reads
// standard input, less exactly one trailing newline (as $(cat) would strip
// one, but keeping any further ones).
#include <unistd.h>

#include <cerrno>

#include "agent/ss/ss_command.h"

namespace slipway::agent::ss {
namespace {

// Reads stdin up to one byte past `limit`, so an oversized value is noticed.
Result<std::string> read_stdin(size_t limit) {
  std::string data;
  char buffer[16384];
  while (data.size() <= limit) {
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(Code::kIo, "cannot read standard input");
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

}  // namespace

int set_main(int argc, char** argv) {
  const Command command{
      "ss-set", "ss-set KEY VALUE (VALUE - reads standard input, less one trailing newline)"};
  auto args = parse_args(argc, argv, {}, {});
  if (!args.ok()) return usage_error(command, args.error().message());
  if (args->help) return print_usage(command);
  if (args->words.size() != 2) return usage_error(command, "give a KEY and a VALUE");
  proto::Set request;
  request.key = args->words[0];
  request.value = args->words[1];
  if (request.value == "-") {
    auto input = read_stdin(proto::kMaxValueSize + 1);
    if (!input.ok()) return fail(command, Code::kError, input.error().message());
    request.value = std::move(*input);
    if (!request.value.empty() && request.value.back() == '\n') request.value.pop_back();
  }
  if (request.value.size() > proto::kMaxValueSize) {
    return fail(command, Code::kInvalidArgument, "the value is larger than 64 KiB");
  }
  return run(command, request, request.key, nullptr);
}

}  // namespace slipway::agent::ss
