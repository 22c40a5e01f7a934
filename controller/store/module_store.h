// The modules and module_access tables: every version of every module as
// pushed, and per name its owner, visibility and next version number.
// Versions are never reused, so next_version only grows.
//
// Failures are the SQLite adapter's: kAlreadyExists for a broken constraint
// (a name or version taken), kIo for anything else.
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

struct ModuleRow {
  std::string name;
  int64_t version = 0;
  std::string kind;     // "image" or "deployment"
  std::string content;  // the YAML as pushed
  std::string digest;   // of the canonical form
  int64_t owner_uid = 0;
  std::string owner_name;
  int64_t created_at = 0;  // wall ms
};

struct ModuleAccessRow {
  std::string name;
  int64_t owner_uid = 0;
  std::string owner_name;
  std::string visibility;  // "private", "group" or "public", as stored
  std::string group;       // "" unless shared with a group
  int64_t next_version = 1;
};

class ModuleRows {
 public:
  explicit ModuleRows(Store& store) : store_(store) {}

  // A name's access row; nullopt when no module has that name.
  Result<std::optional<ModuleAccessRow>> access(const std::string& name);
  // NAME@version, or its latest version when `version` is 0; nullopt when
  // there is no such version.
  Result<std::optional<ModuleRow>> find(const std::string& name, int64_t version);
  // Every module name, sorted.
  Result<std::vector<std::string>> names();
  // The version numbers stored of a name, ascending; empty when none.
  Result<std::vector<int64_t>> versions(const std::string& name);

  // Starts a name: its owner and visibility, version 1 taken (next is 2).
  // kAlreadyExists when the name has an access row.
  Status insert_access(const std::string& name, int64_t owner_uid, const std::string& owner_name,
                       const std::string& visibility);
  // Takes the next version number of a name. Succeeds and changes nothing
  // when the name has no access row.
  Status bump_version(const std::string& name);
  // Stores one version. kAlreadyExists when NAME@version is stored.
  Status insert(const ModuleRow& row);
  // Removes NAME@version, or every version of NAME when `version` is 0.
  // Succeeds when nothing matched.
  Status remove(const std::string& name, int64_t version);
  // Removes a name's access row. Succeeds when there was none.
  Status remove_access(const std::string& name);
  // Sets a name's visibility and group. Succeeds and changes nothing when
  // the name has no access row.
  Status share(const std::string& name, const std::string& visibility, const std::string& group);

 private:
  Store& store_;
};

}  // namespace slipway::controller
