// The image_builds table: the image factory's builds, one row per build of
// an image module on a cloud (docs/images.md).
//
// Failures are the SQLite adapter's: kAlreadyExists for a broken constraint
// (an id taken), kIo for anything else.
//
// Not thread-safe: event loop only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::controller {

class Store;

struct ImageBuildRow {
  std::string id;
  std::string name;  // the image module
  int64_t version = 0;
  std::string cloud;
  std::string state;  // "building", "ready" or "failed", as stored
  std::string hash;
  std::string base;  // "" when it started from the reference image
  int64_t depth = 0;
  std::string deployment;
  std::string reference;  // msgpack of the reference Value, "" until ready
  std::string dir;
  int64_t size_bytes = 0;
  int64_t created_at = 0;   // wall ms
  int64_t finished_at = 0;  // wall ms, 0 while building
  std::string error;
};

class ImageBuildRows {
 public:
  explicit ImageBuildRows(Store& store) : store_(store) {}

  // kAlreadyExists when the id is taken.
  Status insert(const ImageBuildRow& row);
  // Writes every column of the row with its id. Succeeds and changes
  // nothing when there is no such row.
  Status update(const ImageBuildRow& row);
  // nullopt when there is no such build.
  Result<std::optional<ImageBuildRow>> find(const std::string& id);
  // The builds of `name` (every name when ""), by name, cloud, then newest
  // first. Empty when none matched.
  Result<std::vector<ImageBuildRow>> list(const std::string& name);
  // Succeeds when nothing matched.
  Status remove(const std::string& id);

 private:
  Store& store_;
};

}  // namespace slipway::controller
