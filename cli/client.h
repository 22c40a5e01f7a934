// The client side of the control socket.
#pragma once

#include <functional>
#include <string>

#include "common/status.h"
#include "common/value.h"

namespace slipway::cli {

class ControlClient {
 public:
  explicit ControlClient(std::string socket_path) : path_(std::move(socket_path)) {}
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Sends `request` and waits for its final answer, passing each streamed
  // event to `on_event` on the way. The answer's error, if any, comes back as
  // an Error with the controller's code and sentence.
  Result<Value> call(const Value& request, const std::function<void(const Value&)>& on_event = {});

  const std::string& path() const { return path_; }

 private:
  Status connect();
  std::string path_;
  int fd_ = -1;
};

}  // namespace slipway::cli
