// The logs and reports tables: script output and report files of
// deployments, as the chunks they came in. Rows are plain already, so the
// deployments room uses them as they are.
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

  // Stores a chunk; returns its id, or 0 when it was already stored. A store
  // failure is kIo, or kAlreadyExists when the deployment is not stored.
  Result<int64_t> append(const std::string& deployment, const std::string& instance,
                         const std::string& step, int64_t stream, uint64_t seq,
                         const std::string& data);
  // Chunks with id > `after`, of one instance or all (""), oldest first;
  // empty when none matched. A store failure is kIo.
  Result<std::vector<LogChunk>> read(const std::string& deployment, const std::string& instance,
                                     int64_t after, int limit);

  // Adds a chunk of report file `name`, in one transaction. kInvalidArgument
  // when the name is not a relative path without "..", the chunk does not
  // follow the bytes stored (a chunk stored already is accepted and changes
  // nothing), or the instance's reports would pass kMaxReportBytes; a store
  // failure is kIo or kAlreadyExists, and then nothing of the chunk is stored.
  Status report_chunk(const std::string& deployment, const std::string& instance,
                      const std::string& name, uint64_t offset, const std::string& data, bool last);
  // Up to `limit` chunks stored after row `after`, in the order they came
  // (each file's chunks by offset); empty when none matched. A store failure
  // is kIo.
  Result<std::vector<ReportPiece>> report_pieces(const std::string& deployment, int64_t after,
                                                 int limit);

 private:
  Store& store_;
  const Clock& clock_;
};

// True for a report name we accept: relative, no "..", no empty segments.
bool valid_report_name(const std::string& name);

}  // namespace slipway::controller
