// Slipway's one error vocabulary: Error, Result<T> and Status.
//
// Library code returns these instead of throwing. Exceptions from cppzmq,
// msgpack, SQLite, yaml-cpp and Asio are caught in their adapters and turned
// into an Error whose message is one sentence a user can act on.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace slipway {

enum class Code {
  kOk,
  kError,            // a failure with no more precise code
  kUsage,            // a command line or request the caller wrote wrongly
  kInvalidArgument,  // bad input: a module file, a value, a message field
  kNotFound,         // the named thing does not exist (or is not visible)
  kAlreadyExists,
  kPermissionDenied,
  kFailedPrecondition,  // the thing exists but is not in a state that allows it
  kNotSet,              // a runtime parameter has no value yet
  kAborted,             // the deployment's abort flag is raised
  kTimeout,
  kUnavailable,  // the controller or agent cannot be reached
  kProtocol,     // a malformed, oversized or unknown message
  kIo,
  kInternal,
};

// The name of a code, as it appears in logs and in the control protocol.
const char* code_name(Code code);
// Parses what code_name() printed; unknown names give kError.
Code code_from_name(const std::string& name);

// Exit status of the `slipway` command for a code (SPEC section 6).
int cli_exit_code(Code code);
// Exit status of the ss-* commands for a code (SPEC section 5).
int ss_exit_code(Code code);

class Error {
 public:
  Error(Code code, std::string message) : code_(code), message_(std::move(message)) {
    assert(code != Code::kOk);
  }

  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // The same error with context put in front: "reading x.yaml: <message>".
  Error wrap(const std::string& context) const { return Error(code_, context + ": " + message_); }

 private:
  Code code_;
  std::string message_;
};

// A value or an Error. Access to the value of a failed Result is a bug.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status ok_status() {
  return Status();
}

}  // namespace slipway

// Returns early from the enclosing function with the error of a failed
// Status or Result expression.
#define SLIPWAY_RETURN_IF_ERROR(expr)                          \
  do {                                                         \
    auto&& slipway_status_ = (expr);                           \
    if (!slipway_status_.ok()) return slipway_status_.error(); \
  } while (false)

#define SLIPWAY_CONCAT_INNER_(a, b) a##b
#define SLIPWAY_CONCAT_(a, b) SLIPWAY_CONCAT_INNER_(a, b)

// SLIPWAY_ASSIGN_OR_RETURN(auto x, expr): binds the value of a Result, or
// returns its error from the enclosing function.
#define SLIPWAY_ASSIGN_OR_RETURN(lhs, expr)                    \
  auto SLIPWAY_CONCAT_(slipway_result_, __LINE__) = (expr);    \
  if (!SLIPWAY_CONCAT_(slipway_result_, __LINE__).ok())        \
    return SLIPWAY_CONCAT_(slipway_result_, __LINE__).error(); \
  lhs = std::move(SLIPWAY_CONCAT_(slipway_result_, __LINE__)).value()
