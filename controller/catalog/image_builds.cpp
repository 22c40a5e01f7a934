#include "controller/catalog/image_builds.h"

#include <sys/stat.h>

#include <algorithm>

#include "common/crypto.h"
#include "common/fs.h"
#include "common/log.h"

namespace slipway::controller {

const char* build_state_name(BuildState state) {
  switch (state) {
    case BuildState::kBuilding:
      return "building";
    case BuildState::kReady:
      return "ready";
    case BuildState::kFailed:
      return "failed";
  }
  return "failed";
}

Result<BuildState> parse_build_state(std::string_view text) {
  for (BuildState s : {BuildState::kBuilding, BuildState::kReady, BuildState::kFailed}) {
    if (text == build_state_name(s)) return s;
  }
  return Error(Code::kInvalidArgument, "unknown build state \"" + std::string(text) + "\"");
}

Result<ImageBuild> ImageBuilds::decode(const ImageBuildRow& row) {
  auto damaged = [&](const Error& e) {
    return Error(Code::kInternal, "the record of build " + row.id + " is damaged: " + e.message());
  };
  ImageBuild b;
  b.id = row.id;
  b.name = row.name;
  b.version = row.version;
  b.cloud = row.cloud;
  auto state = parse_build_state(row.state);
  if (!state.ok()) return damaged(state.error());
  b.state = *state;
  b.hash = row.hash;
  b.base = row.base;
  b.depth = row.depth;
  b.deployment = row.deployment;
  if (!row.reference.empty()) {
    auto reference = Value::unpack(row.reference);
    if (!reference.ok()) return damaged(reference.error());
    b.reference = std::move(*reference);
  }
  b.dir = row.dir;
  b.size_bytes = row.size_bytes;
  b.created_at = row.created_at;
  b.finished_at = row.finished_at;
  b.error = row.error;
  return b;
}

namespace {

ImageBuildRow row_of(const ImageBuild& b) {
  ImageBuildRow row;
  row.id = b.id;
  row.name = b.name;
  row.version = b.version;
  row.cloud = b.cloud;
  row.state = build_state_name(b.state);
  row.hash = b.hash;
  row.base = b.base;
  row.depth = b.depth;
  row.deployment = b.deployment;
  row.reference = b.reference.is_null() ? std::string() : b.reference.pack();
  row.dir = b.dir;
  row.size_bytes = b.size_bytes;
  row.created_at = b.created_at;
  row.finished_at = b.finished_at;
  row.error = b.error;
  return row;
}

}  // namespace

Status ImageBuilds::write(const ImageBuild& b) {
  return rows_.update(row_of(b));
}

Result<std::optional<ImageBuild>> ImageBuilds::find(const std::string& id) {
  SLIPWAY_ASSIGN_OR_RETURN(auto row, rows_.find(id));
  if (!row) return std::optional<ImageBuild>();
  SLIPWAY_ASSIGN_OR_RETURN(ImageBuild b, decode(*row));
  return std::optional<ImageBuild>(std::move(b));
}

Result<std::vector<ImageBuild>> ImageBuilds::list(const std::string& name) {
  SLIPWAY_ASSIGN_OR_RETURN(auto rows, rows_.list(name));
  std::vector<ImageBuild> out;
  for (const auto& row : rows) {
    auto b = decode(row);
    if (!b.ok()) {
      LOG_WARN("%s", b.error().message().c_str());  // one damaged row hides no other
      continue;
    }
    out.push_back(std::move(*b));
  }
  return out;
}

Result<std::vector<ImageBuild>> ImageBuilds::of_cloud(const std::string& name,
                                                      const std::string& cloud) {
  SLIPWAY_ASSIGN_OR_RETURN(auto all, list(name));
  std::vector<ImageBuild> out;
  for (auto& b : all) {
    if (b.name == name && (cloud.empty() || b.cloud == cloud)) out.push_back(std::move(b));
  }
  return out;
}

Result<bool> ImageBuilds::fresh(const ImageBuild& build, const ImageChain& chain) {
  const auto& modules = chain.modules();
  // A base more than 32 deep cannot be: chains stop at 32.
  const ImageBuild* at = &build;
  std::optional<ImageBuild> base;
  for (int guard = 0; guard < 33; ++guard) {
    if (at->state != BuildState::kReady || at->depth < 2 ||
        static_cast<size_t>(at->depth) > modules.size() ||
        modules[static_cast<size_t>(at->depth) - 1].name != at->name ||
        at->hash != chain.build_hash(static_cast<size_t>(at->depth))) {
      return false;
    }
    if (at->base.empty()) return true;
    SLIPWAY_ASSIGN_OR_RETURN(base, find(at->base));
    if (!base || base->cloud != build.cloud) return false;  // the parent's build was replaced
    at = &*base;
  }
  return false;
}

Result<std::optional<UsableBuild>> ImageBuilds::usable(const ImageChain& chain, size_t limit,
                                                       const std::string& cloud) {
  const auto& modules = chain.modules();
  for (size_t depth = std::min(limit, modules.size()); depth >= 2; --depth) {
    SLIPWAY_ASSIGN_OR_RETURN(auto builds, of_cloud(modules[depth - 1].name, cloud));
    for (const auto& b : builds) {
      if (b.state != BuildState::kReady) continue;
      SLIPWAY_ASSIGN_OR_RETURN(bool ok, fresh(b, chain));
      if (!ok) continue;
      return std::optional<UsableBuild>(UsableBuild{b.id, b.ref(), depth, b.reference});
    }
  }
  return std::optional<UsableBuild>();
}

Result<ImageBuild> ImageBuilds::begin(const ImageChain& chain, const std::string& cloud,
                                      const std::optional<UsableBuild>& base) {
  const StoredModule& image = chain.image();
  SLIPWAY_ASSIGN_OR_RETURN(auto builds, of_cloud(image.name, cloud));
  for (const auto& b : builds) {
    if (b.state == BuildState::kBuilding) {
      return Error(Code::kAlreadyExists, image.name + " is already being built on cloud " + cloud +
                                             " (deployment " + b.deployment + ")");
    }
  }
  ImageBuild b;
  b.id = crypto::random_id(8);
  b.name = image.name;
  b.version = image.version;
  b.cloud = cloud;
  b.state = BuildState::kBuilding;
  b.depth = static_cast<int64_t>(chain.modules().size());
  b.hash = chain.build_hash(chain.modules().size());
  if (base) b.base = base->id;
  b.dir = root_ + "/" + b.id;
  b.created_at = clock_.wall_ms();
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(root_, 0700));
  if (::mkdir(b.dir.c_str(), 0700) != 0) {
    return Error(Code::kIo, "cannot create the build's directory " + b.dir);
  }
  if (Status s = rows_.insert(row_of(b)); !s.ok()) {
    (void)fs::remove_tree(b.dir);
    return s.error();
  }
  return b;
}

Status ImageBuilds::attach(const std::string& id, const std::string& deployment) {
  SLIPWAY_ASSIGN_OR_RETURN(auto b, find(id));
  if (!b) return Error(Code::kNotFound, "no build " + id);
  b->deployment = deployment;
  return write(*b);
}

Status ImageBuilds::ready(const std::string& id, const Value& reference, int64_t size_bytes) {
  SLIPWAY_ASSIGN_OR_RETURN(auto b, find(id));
  if (!b) return Error(Code::kNotFound, "no build " + id);
  b->state = BuildState::kReady;
  b->reference = reference;
  b->size_bytes = size_bytes;
  b->finished_at = clock_.wall_ms();
  SLIPWAY_RETURN_IF_ERROR(write(*b));
  SLIPWAY_ASSIGN_OR_RETURN(auto others, of_cloud(b->name, b->cloud));
  for (const auto& old : others) {
    if (old.id == id || old.state == BuildState::kBuilding) continue;
    SLIPWAY_RETURN_IF_ERROR(remove_files(old));
    SLIPWAY_RETURN_IF_ERROR(rows_.remove(old.id));
  }
  return ok_status();
}

Status ImageBuilds::failed(const std::string& id, const std::string& error) {
  SLIPWAY_ASSIGN_OR_RETURN(auto b, find(id));
  if (!b) return Error(Code::kNotFound, "no build " + id);
  if (b->state != BuildState::kBuilding) return ok_status();
  b->state = BuildState::kFailed;
  b->error = error;
  b->finished_at = clock_.wall_ms();
  (void)fs::remove_tree(b->dir);  // recover() takes what is left at the next start
  return write(*b);
}

Result<std::vector<ImageBuild>> ImageBuilds::remove(const std::string& name,
                                                    const std::string& cloud) {
  SLIPWAY_ASSIGN_OR_RETURN(auto builds, of_cloud(name, cloud));
  for (const auto& b : builds) {
    if (b.state == BuildState::kBuilding) {
      return Error(Code::kFailedPrecondition, name + " is being built on cloud " + b.cloud +
                                                  " (deployment " + b.deployment +
                                                  "): terminate that first");
    }
  }
  for (const auto& b : builds) {
    SLIPWAY_RETURN_IF_ERROR(remove_files(b));
    SLIPWAY_RETURN_IF_ERROR(rows_.remove(b.id));
  }
  return builds;
}

Result<std::vector<ImageBuild>> ImageBuilds::remove_version(const std::string& name,
                                                            int64_t version) {
  SLIPWAY_ASSIGN_OR_RETURN(auto builds, of_cloud(name, ""));
  std::vector<ImageBuild> removed;
  for (auto& b : builds) {
    if (b.version != version || b.state == BuildState::kBuilding) continue;
    SLIPWAY_RETURN_IF_ERROR(remove_files(b));
    SLIPWAY_RETURN_IF_ERROR(rows_.remove(b.id));
    removed.push_back(std::move(b));
  }
  return removed;
}

Status ImageBuilds::recover(const std::set<std::string>& active) {
  SLIPWAY_ASSIGN_OR_RETURN(auto builds, list(""));
  std::set<std::string> kept;
  for (const auto& b : builds) {
    if (b.state == BuildState::kBuilding && !active.count(b.deployment)) {
      LOG_WARN("build %s of %s on %s: its run %s is over; the build failed", b.id.c_str(),
               b.ref().c_str(), b.cloud.c_str(), b.deployment.c_str());
      SLIPWAY_RETURN_IF_ERROR(failed(b.id, "the controller stopped during the build"));
    }
  }
  return collect();
}

Status ImageBuilds::collect() {
  if (!fs::exists(root_)) return ok_status();
  SLIPWAY_ASSIGN_OR_RETURN(auto builds, list(""));
  std::set<std::string> kept = in_use_ ? in_use_() : std::set<std::string>();
  for (const auto& b : builds) {
    if (b.state != BuildState::kFailed) kept.insert(b.dir);
  }
  SLIPWAY_ASSIGN_OR_RETURN(auto entries, fs::list_dir(root_));
  for (const auto& entry : entries) {
    const std::string dir = root_ + "/" + entry;
    if (kept.count(dir)) continue;
    LOG_INFO("removing %s, which no build owns and no machine boots from", dir.c_str());
    SLIPWAY_RETURN_IF_ERROR(fs::remove_tree(dir));
  }
  return ok_status();
}

Status ImageBuilds::remove_files(const ImageBuild& b) {
  if (in_use_ && in_use_().count(b.dir)) {
    LOG_INFO("build %s of %s: its files stay while machines boot from them", b.id.c_str(),
             b.ref().c_str());
    return ok_status();
  }
  return fs::remove_tree(b.dir);
}

std::set<std::string> ImageBuilds::dirs_named_in(const Value& reference) const {
  std::set<std::string> out;
  const std::string prefix = root_ + "/";
  std::function<void(const Value&)> walk = [&](const Value& v) {
    if (v.is_string() && v.str().compare(0, prefix.size(), prefix) == 0) {
      const size_t end = v.str().find('/', prefix.size());
      out.insert(v.str().substr(0, end));
    }
    for (const auto& item : v.items()) walk(item);
    for (const auto& [key, field] : v.fields()) walk(field);
  };
  walk(reference);
  return out;
}

Result<int64_t> ImageBuilds::bytes() {
  SLIPWAY_ASSIGN_OR_RETURN(auto builds, list(""));
  int64_t total = 0;
  for (const auto& b : builds) {
    if (b.state == BuildState::kReady) total += b.size_bytes;
  }
  return total;
}

}  // namespace slipway::controller
