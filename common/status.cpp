#include "common/status.h"

#include <cstring>

namespace slipway {
namespace {

struct CodeInfo {
  Code code;
  const char* name;
  int cli_exit;
  int ss_exit;
};

// One table, so names and both exit-code mappings cannot drift apart.
constexpr CodeInfo kCodes[] = {
    {Code::kOk, "ok", 0, 0},
    {Code::kError, "error", 1, 1},
    {Code::kUsage, "usage", 2, 2},
    {Code::kInvalidArgument, "invalid-argument", 1, 2},
    {Code::kNotFound, "not-found", 3, 1},
    {Code::kAlreadyExists, "already-exists", 1, 1},
    {Code::kPermissionDenied, "permission-denied", 6, 6},
    {Code::kFailedPrecondition, "failed-precondition", 1, 1},
    {Code::kNotSet, "not-set", 1, 1},
    {Code::kAborted, "aborted", 8, 8},
    {Code::kTimeout, "timeout", 9, 9},
    {Code::kUnavailable, "unavailable", 1, 4},
    {Code::kProtocol, "protocol", 1, 4},
    {Code::kIo, "io", 1, 1},
    {Code::kInternal, "internal", 1, 1},
};

const CodeInfo& info(Code code) {
  for (const auto& entry : kCodes) {
    if (entry.code == code) return entry;
  }
  return kCodes[1];
}

}  // namespace

const char* code_name(Code code) {
  return info(code).name;
}

Code code_from_name(const std::string& name) {
  for (const auto& entry : kCodes) {
    if (name == entry.name) return entry.code;
  }
  return Code::kError;
}

int cli_exit_code(Code code) {
  return info(code).cli_exit;
}
int ss_exit_code(Code code) {
  return info(code).ss_exit;
}

}  // namespace slipway
