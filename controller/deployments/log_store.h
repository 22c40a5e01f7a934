// Script output and report files of deployments, in the store.
//
// Log chunks are unique by (deployment, instance, step, stream, seq), so a
// chunk an agent re-sends after a reconnect is kept once. Report files
// arrive in chunks, in order of offset.
//
// Not thread-safe: event loop only.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace slipway::controller {

class Store;

struct LogChunk {
  int64_t id = 0;  // increasing: follow with "after this id"
  std::string instance;
  std::string step;
  int64_t stream = 1;
  int64_t at = 0;
  std::string data;
};

// One stored chunk of a report file.
struct ReportPiece {
  int64_t row = 0;  // increasing in the order chunks were stored
  std::string instance;
  std::string name;
  uint64_t offset = 0;
  std::string data;
  bool last = false;
};

class LogStore {
 public:
  // A report may hold at most this much per instance.
  static constexpr size_t kMaxReportBytes = 64 << 20;

  LogStore(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Stores a chunk; returns its id, or 0 when it was already stored.
  Result<int64_t> append(const std::string& deployment, const std::string& instance,
                         const std::string& step, int64_t stream, uint64_t seq,
                         const std::string& data);
  // Chunks with id > `after`, of one instance or all (""), oldest first.
  Result<std::vector<LogChunk>> read(const std::string& deployment, const std::string& instance,
                                     int64_t after, int limit);

  // Adds a chunk of report file `name`. The name must be a relative path
  // without "..", and chunks must come in order.
  Status report_chunk(const std::string& deployment, const std::string& instance,
                      const std::string& name, uint64_t offset, const std::string& data, bool last);
  // Up to `limit` chunks stored after row `after`, in the order they came
  // (each file's chunks by offset).
  Result<std::vector<ReportPiece>> report_pieces(const std::string& deployment, int64_t after,
                                                 int limit);

 private:
  Store& store_;
  const Clock& clock_;
};

// True for a report name we accept: relative, no "..", no empty segments.
bool valid_report_name(const std::string& name);

}  // namespace slipway::controller
