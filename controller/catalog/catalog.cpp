#include "controller/catalog/catalog.h"

#include <map>
#include <set>

#include "common/crypto.h"
#include "controller/catalog/image_chain.h"
#include "controller/store/store.h"

namespace slipway::controller {
namespace {

// The first string in `v` (at any depth) that is an absolute path, or "".
std::string first_absolute_path(const Value& v) {
  if (v.is_string()) return !v.str().empty() && v.str()[0] == '/' ? v.str() : "";
  if (v.is_array()) {
    for (const auto& item : v.items()) {
      if (auto path = first_absolute_path(item); !path.empty()) return path;
    }
  }
  if (v.is_object()) {
    for (const auto& [key, item] : v.fields()) {
      if (auto path = first_absolute_path(item); !path.empty()) return path;
    }
  }
  return "";
}

Error at_line(const Module& m, int line, const std::string& message) {
  return Error(Code::kInvalidArgument,
               m.source + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + message);
}

bool is_node_parameter(const std::string& name) {
  for (const char* p : kNodeParameters) {
    if (name == p) return true;
  }
  return false;
}

Error not_owner(const ModuleAccess& access) {
  return Error(Code::kPermissionDenied,
               "module " + access.name + " belongs to " + access.owner_name);
}

bool owns(const Caller& caller, const ModuleAccess& access) {
  return caller.admin || caller.uid == access.owner_uid;
}

}  // namespace

Status check_references(const Module& m, const ModuleLookup& lookup) {
  if (m.kind == ModuleKind::kImage) {
    if (m.image.parent.empty()) return ok_status();
    auto chain = resolve_image_chain(m.image.parent, lookup);
    if (!chain.ok()) return at_line(m, m.parent_line, "parent: " + chain.error().message());
    for (const auto& parent : chain->modules()) {
      if (parent.name == m.name) {
        return at_line(m, m.parent_line, "the parent chain has a cycle through " + m.name);
      }
    }
    return ok_status();
  }

  std::map<std::string, ImageChain> chains;
  for (const auto& node : m.nodes) {
    auto chain = resolve_image_chain(node.image, lookup);
    if (!chain.ok())
      return at_line(m, node.line, "node " + node.name + ": " + chain.error().message());
    chains.emplace(node.name, std::move(*chain));
  }
  for (const auto& node : m.nodes) {
    const ImageChain& chain = chains.at(node.name);
    for (const auto& [input, binding] : node.inputs) {
      if (chain.input(input) == nullptr) {
        return at_line(
            m, binding.line,
            "node " + node.name + ": image " + chain.image().name + " has no input " + input);
      }
      if (binding.literal) continue;
      const NodeDefinition* source = m.node(binding.node);
      if (source == nullptr) {
        return at_line(m, binding.line,
                       "node " + node.name + ": input " + input + " is mapped to node " +
                           binding.node + ", which this deployment does not have");
      }
      if (!binding.instance.empty() && binding.instance_number() > source->multiplicity) {
        return at_line(m, binding.line,
                       "node " + node.name + ": input " + input + " is mapped to " + binding.node +
                           "." + binding.instance + ", but " + binding.node + " has " +
                           std::to_string(source->multiplicity) + " instance(s)");
      }
      const ImageChain& source_chain = chains.at(binding.node);
      bool exists = source_chain.has_output(binding.parameter) ||
                    builtin_parameter(binding.parameter) != nullptr ||
                    (binding.instance.empty() && is_node_parameter(binding.parameter));
      if (!exists) {
        return at_line(m, binding.line,
                       "node " + node.name + ": input " + input + " is mapped to " + binding.node +
                           ":" + binding.parameter + ", but image " + source_chain.image().name +
                           " has no output " + binding.parameter);
      }
    }
    for (const auto& in : chain.inputs()) {
      if (!in.default_value && !node.inputs.count(in.name)) {
        return at_line(
            m, node.line,
            "node " + node.name + ": input " + in.name + " has neither a default nor a mapping");
      }
    }
  }
  return ok_status();
}

namespace {
constexpr const char* kVisibilityNames[] = {"private", "group", "public"};
}  // namespace

const char* visibility_name(Visibility visibility) {
  return kVisibilityNames[static_cast<int>(visibility)];
}

Result<Visibility> parse_visibility(std::string_view text) {
  for (int i = 0; i < 3; ++i) {
    if (text == kVisibilityNames[i]) return static_cast<Visibility>(i);
  }
  return Error(Code::kInvalidArgument,
               "a module is private, group or public, not \"" + std::string(text) + "\"");
}

bool Catalog::may_see(const Caller& caller, const ModuleAccess& access) const {
  if (caller.admin || caller.uid == access.owner_uid || access.visibility == Visibility::kPublic)
    return true;
  if (access.visibility == Visibility::kGroup) {
    std::optional<gid_t> gid = lookup_group(access.group);
    return gid && caller.in_group(*gid);
  }
  return false;
}

Result<std::optional<ModuleAccess>> Catalog::load_access(const std::string& name) {
  SLIPWAY_ASSIGN_OR_RETURN(auto row, rows_.access(name));
  if (!row) return std::optional<ModuleAccess>();
  auto visibility = parse_visibility(row->visibility);
  if (!visibility.ok()) {
    return Error(Code::kInternal, "module " + name + " has an unknown visibility \"" +
                                      row->visibility + "\" in the store");
  }
  ModuleAccess a;
  a.name = name;
  a.owner_uid = static_cast<uid_t>(row->owner_uid);
  a.owner_name = std::move(row->owner_name);
  a.visibility = *visibility;
  a.group = std::move(row->group);
  a.next_version = row->next_version;
  return std::optional<ModuleAccess>(std::move(a));
}

Result<ModuleAccess> Catalog::access(const std::string& name) {
  SLIPWAY_ASSIGN_OR_RETURN(auto a, load_access(name));
  if (!a) return Error(Code::kNotFound, "no module named " + name);
  return *a;
}

Result<std::optional<StoredModule>> Catalog::load(const std::string& name, int64_t version) {
  SLIPWAY_ASSIGN_OR_RETURN(auto row, rows_.find(name, version));
  if (!row) return std::optional<StoredModule>();
  StoredModule m;
  m.name = name;
  m.version = row->version;
  m.content = std::move(row->content);
  m.digest = std::move(row->digest);
  m.owner_uid = static_cast<uid_t>(row->owner_uid);
  m.owner_name = std::move(row->owner_name);
  m.created_at = row->created_at;
  auto parsed = parse_module(m.content, m.ref());
  if (!parsed.ok()) return parsed.error().wrap("stored module " + m.ref() + " no longer parses");
  m.module = std::move(*parsed);
  return std::optional<StoredModule>(std::move(m));
}

ModuleLookup Catalog::lookup_for(const Caller& caller) {
  return [this, caller](const std::string& name,
                        int64_t version) -> Result<std::optional<StoredModule>> {
    SLIPWAY_ASSIGN_OR_RETURN(auto a, load_access(name));
    if (!a || !may_see(caller, *a)) return std::optional<StoredModule>();
    return load(name, version);
  };
}

Result<std::vector<PushOutcome>> Catalog::push(const Caller& caller,
                                               const std::vector<SourceFile>& files) {
  if (files.empty()) return Error(Code::kUsage, "nothing to push");
  std::vector<Module> modules;
  std::vector<const SourceFile*> sources;
  std::map<std::string, std::string> seen;  // name -> file
  for (const auto& file : files) {
    SLIPWAY_ASSIGN_OR_RETURN(Module m, parse_module(file.content, file.path));
    if (seen.count(m.name)) {
      return Error(Code::kInvalidArgument,
                   file.path + ": module " + m.name + " is also defined in " + seen[m.name]);
    }
    seen[m.name] = file.path;
    SLIPWAY_ASSIGN_OR_RETURN(auto existing, load_access(m.name));
    if (existing && !owns(caller, *existing)) return not_owner(*existing);
    if (!caller.admin) {
      // Connectors read a reference's files as root: a host path would give
      // anyone a machine over any file or device of the host.
      std::string path = first_absolute_path(m.image.reference);
      if (!path.empty()) {
        return Error(Code::kPermissionDenied,
                     file.path +
                         ": only an admin may publish an image that boots from a host "
                         "path (" +
                         path.substr(0, 200) +
                         "); name a built image instead (see images/README.md)");
      }
    }
    modules.push_back(std::move(m));
    sources.push_back(&file);
  }
  // Unpinned names resolve to the batch first: modules pushed together may
  // refer to each other.
  ModuleLookup stored = lookup_for(caller);
  ModuleLookup lookup = [&](const std::string& name,
                            int64_t version) -> Result<std::optional<StoredModule>> {
    if (version == 0) {
      for (size_t i = 0; i < modules.size(); ++i) {
        if (modules[i].name == name) {
          StoredModule pending;
          pending.name = name;
          pending.module = modules[i];
          pending.content = sources[i]->content;
          return std::optional<StoredModule>(std::move(pending));
        }
      }
    }
    return stored(name, version);
  };
  for (const auto& m : modules) SLIPWAY_RETURN_IF_ERROR(check_references(m, lookup));

  StoreTransaction tx(store_);
  SLIPWAY_RETURN_IF_ERROR(tx.begin_status());
  std::vector<PushOutcome> outcomes;
  for (size_t i = 0; i < modules.size(); ++i) {
    SLIPWAY_ASSIGN_OR_RETURN(
        PushOutcome outcome,
        store_module(caller, modules[i], sources[i]->content, Visibility::kPrivate));
    outcomes.push_back(outcome);
  }
  SLIPWAY_RETURN_IF_ERROR(tx.commit());
  return outcomes;
}

Result<PushOutcome> Catalog::store_module(const Caller& caller, const Module& module,
                                          const std::string& content, Visibility visibility) {
  std::string digest = crypto::digest_hex(module.canonical().pack());
  SLIPWAY_ASSIGN_OR_RETURN(auto latest, load(module.name, 0));
  if (latest && latest->digest == digest) return PushOutcome{module.name, latest->version, false};
  SLIPWAY_ASSIGN_OR_RETURN(auto existing, load_access(module.name));
  int64_t version = existing ? existing->next_version : 1;
  if (!existing) {
    SLIPWAY_RETURN_IF_ERROR(rows_.insert_access(module.name, static_cast<int64_t>(caller.uid),
                                                caller.user, visibility_name(visibility)));
  } else {
    SLIPWAY_RETURN_IF_ERROR(rows_.bump_version(module.name));
  }
  ModuleRow row;
  row.name = module.name;
  row.version = version;
  row.kind = module.kind == ModuleKind::kImage ? "image" : "deployment";
  row.content = content;
  row.digest = digest;
  row.owner_uid = static_cast<int64_t>(existing ? existing->owner_uid : caller.uid);
  row.owner_name = existing ? existing->owner_name : caller.user;
  row.created_at = clock_.wall_ms();
  SLIPWAY_RETURN_IF_ERROR(rows_.insert(row));
  return PushOutcome{module.name, version, true};
}

Result<StoredModule> Catalog::get(const Caller& caller, const std::string& reference) {
  SLIPWAY_ASSIGN_OR_RETURN(ModuleRef ref, split_reference(reference));
  const std::string& name = ref.name;
  const int64_t version = ref.version;
  SLIPWAY_ASSIGN_OR_RETURN(auto found, lookup_for(caller)(name, version));
  if (!found) {
    return Error(Code::kNotFound,
                 version == 0 ? "no module named " + name : "no module " + reference);
  }
  return std::move(*found);
}

Result<std::vector<StoredModule>> Catalog::list(const Caller& caller) {
  SLIPWAY_ASSIGN_OR_RETURN(auto names, rows_.names());
  std::vector<StoredModule> out;
  ModuleLookup lookup = lookup_for(caller);
  for (const auto& name : names) {
    SLIPWAY_ASSIGN_OR_RETURN(auto m, lookup(name, 0));
    if (m) out.push_back(std::move(*m));
  }
  return out;
}

Result<std::vector<StoredModule>> Catalog::versions(const Caller& caller, const std::string& name) {
  SLIPWAY_ASSIGN_OR_RETURN(auto a, load_access(name));
  if (!a || !may_see(caller, *a)) return Error(Code::kNotFound, "no module named " + name);
  SLIPWAY_ASSIGN_OR_RETURN(auto numbers, rows_.versions(name));
  std::vector<StoredModule> out;
  for (int64_t v : numbers) {
    SLIPWAY_ASSIGN_OR_RETURN(auto m, load(name, v));
    if (m) out.push_back(std::move(*m));
  }
  return out;
}

Result<std::vector<std::string>> Catalog::referrers(const std::string& name) {
  std::vector<std::string> out;
  SLIPWAY_ASSIGN_OR_RETURN(auto names, rows_.names());
  for (const auto& other : names) {
    if (other == name) continue;
    SLIPWAY_ASSIGN_OR_RETURN(auto m, load(other, 0));
    if (!m) continue;
    std::vector<std::string> refs;
    if (m->module.kind == ModuleKind::kImage) refs.push_back(m->module.image.parent);
    for (const auto& node : m->module.nodes) refs.push_back(node.image);
    for (const auto& ref : refs) {
      auto split = split_reference(ref);
      if (split.ok() && split->name == name) out.push_back(other);
    }
  }
  return out;
}

Result<std::vector<std::string>> Catalog::remove(const Caller& caller,
                                                 const std::string& reference) {
  SLIPWAY_ASSIGN_OR_RETURN(ModuleRef ref, split_reference(reference));
  const std::string& name = ref.name;
  const int64_t version = ref.version;
  SLIPWAY_ASSIGN_OR_RETURN(auto a, load_access(name));
  if (!a || !may_see(caller, *a)) return Error(Code::kNotFound, "no module named " + name);
  if (!owns(caller, *a)) return not_owner(*a);
  SLIPWAY_ASSIGN_OR_RETURN(auto all, versions(caller, name));
  bool removes_latest = version == 0 || (!all.empty() && all.back().version == version);
  if (version > 0 &&
      std::none_of(all.begin(), all.end(), [&](const auto& m) { return m.version == version; })) {
    return Error(Code::kNotFound, "no module " + reference);
  }
  if (removes_latest && (version == 0 || all.size() == 1)) {
    SLIPWAY_ASSIGN_OR_RETURN(auto users, referrers(name));
    if (!users.empty()) {
      return Error(Code::kFailedPrecondition, "module " + name + " is used by " + users.front() +
                                                  "; remove or change that first");
    }
  }
  StoreTransaction tx(store_);
  SLIPWAY_RETURN_IF_ERROR(tx.begin_status());
  std::vector<std::string> removed;
  for (const auto& m : all) {
    if (version == 0 || m.version == version) removed.push_back(m.ref());
  }
  SLIPWAY_RETURN_IF_ERROR(rows_.remove(name, version));
  if (version == 0 || all.size() == 1) SLIPWAY_RETURN_IF_ERROR(rows_.remove_access(name));
  SLIPWAY_RETURN_IF_ERROR(tx.commit());
  return removed;
}

Status Catalog::share(const Caller& caller, const std::string& name, Visibility visibility,
                      const std::string& group) {
  SLIPWAY_ASSIGN_OR_RETURN(auto a, load_access(name));
  if (!a || !may_see(caller, *a)) return Error(Code::kNotFound, "no module named " + name);
  if (!owns(caller, *a)) return not_owner(*a);
  if (visibility == Visibility::kGroup) {
    if (group.empty() || !lookup_group(group)) {
      return Error(Code::kInvalidArgument, "there is no group named \"" + group + "\"");
    }
  }
  return rows_.share(name, visibility_name(visibility),
                     visibility == Visibility::kGroup ? group : "");
}

Result<PushOutcome> Catalog::install_builtin(const std::string& yaml, const std::string& source) {
  SLIPWAY_ASSIGN_OR_RETURN(Module m, parse_module(yaml, source));
  Caller system = Caller::system();
  system.user = "root";
  SLIPWAY_RETURN_IF_ERROR(check_references(m, lookup_for(system)));
  StoreTransaction tx(store_);
  SLIPWAY_RETURN_IF_ERROR(tx.begin_status());
  SLIPWAY_ASSIGN_OR_RETURN(PushOutcome outcome, store_module(system, m, yaml, Visibility::kPublic));
  SLIPWAY_RETURN_IF_ERROR(tx.commit());
  return outcome;
}

}  // namespace slipway::controller
