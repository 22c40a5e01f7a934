// Uploads a machine's reports (SPEC section 3, SendingReports): every
// regular file under the report directory, by its path relative to it, then
// the agent's extra files (the scripts log), as `report` chunks of at most
// kMaxChunkSize bytes. One chunk is in flight at a time: the next goes when
// the controller's `reply` to it came (flow control). After a reconnection
// the chunk in flight is sent again (the controller keys chunks by name and
// offset). Failures are logged, never fatal: a file the controller refuses
// is skipped, and with no answer for kReplyTimeoutMs the upload ends.
//
// Not thread-safe: runs on the agent's EventLoop.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "agent/event_loop.h"
#include "common/protocol.h"

namespace slipway::agent {

class ReportUploader {
 public:
  using SendNow = std::function<bool(const proto::AgentMessage&)>;
  using NextId = std::function<uint64_t()>;

  static constexpr int64_t kReplyTimeoutMs = 60000;

  // A report to upload: its name at the controller and the file it comes from.
  struct File {
    std::string name;
    std::string path;
  };

  ReportUploader(EventLoop& loop, SendNow send_now, NextId next_id)
      : loop_(loop), send_now_(std::move(send_now)), next_id_(std::move(next_id)) {}
  ~ReportUploader();
  ReportUploader(const ReportUploader&) = delete;
  ReportUploader& operator=(const ReportUploader&) = delete;

  // Uploads `files` in order; `done` is called once, from the loop, at the end.
  void start(std::vector<File> files, std::function<void()> done);
  bool busy() const { return busy_; }
  // True when `reply` answered the chunk in flight.
  bool on_reply(const proto::Reply& reply);
  // The link is back: send the chunk in flight again.
  void on_welcome();

  // The regular files under `dir` (symbolic links to regular files count;
  // links to directories are not followed), sorted, named relative to `dir`.
  static std::vector<File> list_files(const std::string& dir);

 private:
  void next_file();
  void next_chunk();
  void send_in_flight();
  void close_file();
  void finish();

  EventLoop& loop_;
  SendNow send_now_;
  NextId next_id_;
  bool busy_ = false;
  std::vector<File> files_;
  size_t file_index_ = 0;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  proto::ReportChunk in_flight_;
  bool waiting_ = false;
  uint64_t timer_ = 0;
  std::function<void()> done_;
  uint64_t uploaded_files_ = 0;
};

}  // namespace slipway::agent
