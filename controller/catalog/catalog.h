// The module catalog: versioned image and deployment modules in the store,
// each private to its owner until shared with a group or made public.
//
// A push checks the whole set of files before storing anything: each document
// on its own (module.h), then what needs other modules (parents exist and form
// no cycle, node images exist, input mappings name real outputs, every input
// has a default or a mapping). Content equal to the latest version makes no
// new version.
//
// Not thread-safe: event loop only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/catalog/caller.h"
#include "controller/catalog/module.h"
#include "controller/store/module_store.h"

namespace slipway::controller {

class Store;

struct StoredModule {
  std::string name;
  int64_t version = 0;
  std::string content;  // the YAML as pushed
  std::string digest;
  uid_t owner_uid = 0;
  std::string owner_name;
  int64_t created_at = 0;
  Module module;  // parsed from content

  std::string ref() const { return name + "@" + std::to_string(version); }
};

// Who may see and deploy a module besides its owner and the admins: nobody,
// the members of its group, or everybody.
enum class Visibility { kPrivate, kGroup, kPublic };
// "private", "group", "public": as stored and shown.
const char* visibility_name(Visibility visibility);
// The inverse; kInvalidArgument for any other text.
Result<Visibility> parse_visibility(std::string_view text);

struct ModuleAccess {
  std::string name;
  uid_t owner_uid = 0;
  std::string owner_name;
  Visibility visibility = Visibility::kPrivate;
  std::string group;
  int64_t next_version = 1;
};

struct SourceFile {
  std::string path;  // shown in errors
  std::string content;
};

struct PushOutcome {
  std::string name;
  int64_t version = 0;
  bool created = false;  // false: same content as the latest version
};

// How modules are found while checking: the batch being pushed first (for
// unpinned names), then the store. Returns nullopt when not found or not
// visible to the caller.
using ModuleLookup =
    std::function<Result<std::optional<StoredModule>>(const std::string& name, int64_t version)>;

class Catalog {
 public:
  Catalog(Store& store, const Clock& clock) : store_(store), rows_(store), clock_(clock) {}

  Result<std::vector<PushOutcome>> push(const Caller& caller, const std::vector<SourceFile>& files);

  // NAME (latest) or NAME@N, if the caller may see it; kNotFound otherwise.
  Result<StoredModule> get(const Caller& caller, const std::string& reference);
  // The latest version of every module the caller may see, by name.
  Result<std::vector<StoredModule>> list(const Caller& caller);
  Result<std::vector<StoredModule>> versions(const Caller& caller, const std::string& name);
  // Removes NAME@N, or every version of NAME. Only its owner or an admin may;
  // refused while another module's latest version refers to it.
  Result<std::vector<std::string>> remove(const Caller& caller, const std::string& reference);
  // Makes NAME `visibility`; for kGroup, `group` names an existing group.
  Status share(const Caller& caller, const std::string& name, Visibility visibility,
               const std::string& group);
  Result<ModuleAccess> access(const std::string& name);

  // Stores a module the controller ships (owner root, public) unless its
  // latest version already has this content.
  Result<PushOutcome> install_builtin(const std::string& yaml, const std::string& source);

  // A lookup into the store for `caller` (what deployments resolve against).
  ModuleLookup lookup_for(const Caller& caller);

  bool may_see(const Caller& caller, const ModuleAccess& access) const;

 private:
  Result<std::optional<StoredModule>> load(const std::string& name, int64_t version);
  // nullopt when no module has that name; kInternal when its row is damaged.
  Result<std::optional<ModuleAccess>> load_access(const std::string& name);
  Result<PushOutcome> store_module(const Caller& caller, const Module& module,
                                   const std::string& content, Visibility visibility);
  Result<std::vector<std::string>> referrers(const std::string& name);

  Store& store_;  // for transactions over several rows
  ModuleRows rows_;
  const Clock& clock_;
};

// Checks what needs other modules: parents, images, mappings, inputs.
Status check_references(const Module& module, const ModuleLookup& lookup);

}  // namespace slipway::controller
