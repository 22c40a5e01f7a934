// The answering side of one control request, apart from the socket it goes
// to: handlers answer through a Reply; the server's sessions (and, in tests,
// a recorder) are the ReplySink behind it.
#pragma once

#include <functional>
#include <memory>

#include "common/status.h"
#include "common/value.h"

namespace slipway::controller {

// Where a request's frames go. Implementations decide how they are carried;
// Reply builds the frames, so every sink sees the same maps.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // One frame; `final` for the answer. Frames after the answer are dropped.
  virtual void send(Value message, bool final) = 0;
  // The caller went away.
  virtual bool closed() const = 0;
  // Runs `callback` once if the caller goes away before the final answer
  // (at once when it already has).
  virtual void on_close(std::function<void()> callback) = 0;
  // Runs `callback` once every frame sent so far has been delivered.
  virtual void when_drained(std::function<void()> callback) = 0;
};

// Copies share the request.
class Reply {
 public:
  Reply() = default;
  explicit Reply(std::shared_ptr<ReplySink> sink) : sink_(std::move(sink)) {}

  void ok(Value result = Value()) const;
  void fail(const Error& error) const;
  void finish(const Result<Value>& result) const;
  void event(Value event) const;  // a streamed frame; ignored after the final answer
  bool closed() const;            // the caller went away
  // Runs `callback` once if the caller goes away before the final answer.
  void on_close(std::function<void()> callback) const;
  // Runs `callback` once every frame sent so far has been written to the
  // caller: how a large answer is streamed without piling up in memory.
  void when_drained(std::function<void()> callback) const;

 private:
  std::shared_ptr<ReplySink> sink_;
};

}  // namespace slipway::controller
