// The image factory's records (docs/images.md): builds of image modules on
// clouds, whether each is still fresh, and what a deployment may boot from.
//
// A build holds the first `depth` modules of its image's chain (the
// reference image and the parents, then the image): their pre-install,
// packages and post-install ran on its machine before the snapshot. It
// stays usable while its content hash (ImageChain::build_hash) matches the
// chain being deployed, and, when it started from its parent's build (an
// incremental chain), while that build is still the parent's ready one.
// One ready build per image and cloud: a new one replaces it.
//
// Not thread-safe: event loop only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/value.h"
#include "controller/catalog/catalog.h"
#include "controller/catalog/image_chain.h"
#include "controller/store/image_build_store.h"

namespace slipway::controller {

enum class BuildState { kBuilding, kReady, kFailed };
// "building", "ready", "failed": as stored and shown.
const char* build_state_name(BuildState state);
// kInvalidArgument for any other text.
Result<BuildState> parse_build_state(std::string_view text);

struct ImageBuild {
  std::string id;
  std::string name;
  int64_t version = 0;
  std::string cloud;
  BuildState state = BuildState::kBuilding;
  std::string hash;
  std::string base;
  int64_t depth = 0;
  std::string deployment;
  Value reference;  // null until ready
  std::string dir;
  int64_t size_bytes = 0;
  int64_t created_at = 0;
  int64_t finished_at = 0;
  std::string error;

  std::string ref() const { return name + "@" + std::to_string(version); }
};

// What a node boots from instead of its reference image.
struct UsableBuild {
  std::string id;
  std::string image;  // NAME@VERSION built
  size_t depth = 0;   // modules of the chain it holds
  Value reference;    // for the node's connector
};

class ImageBuilds {
 public:
  // `root` is where builds keep their files (DATA_DIR/builds).
  ImageBuilds(Store& store, const Clock& clock, std::string root)
      : rows_(store), clock_(clock), root_(std::move(root)) {}

  // The deepest usable build on `cloud` of the chain's modules 2..limit
  // (a reference image has no build), nullopt when there is none.
  Result<std::optional<UsableBuild>> usable(const ImageChain& chain, size_t limit,
                                            const std::string& cloud);
  // Whether `build` is ready and holds what the chain's first build.depth
  // modules ask now.
  Result<bool> fresh(const ImageBuild& build, const ImageChain& chain);

  // Records a new build of the chain's image on `cloud`, starting from
  // `base`, and makes its empty directory. kAlreadyExists, naming the
  // deployment, while another build of the same image and cloud runs.
  Result<ImageBuild> begin(const ImageChain& chain, const std::string& cloud,
                           const std::optional<UsableBuild>& base);
  // The deployment that runs the build.
  Status attach(const std::string& id, const std::string& deployment);
  // The build is ready: its machine became `reference`. Older builds of the
  // same image and cloud go, with their files.
  Status ready(const std::string& id, const Value& reference, int64_t size_bytes);
  // The build failed: its files go, its record stays with the reason.
  Status failed(const std::string& id, const std::string& error);

  Result<std::optional<ImageBuild>> find(const std::string& id);
  // Builds of `name` (all when ""), by name and cloud, newest first.
  Result<std::vector<ImageBuild>> list(const std::string& name);
  // Removes the builds of `name` (on `cloud` only, unless ""), with their
  // files; kFailedPrecondition, removing nothing, while one is building.
  // Returns what was removed.
  Result<std::vector<ImageBuild>> remove(const std::string& name, const std::string& cloud);

  // Removes the builds made of NAME@version that are not running, with
  // their files (the version itself is gone).
  Result<std::vector<ImageBuild>> remove_version(const std::string& name, int64_t version);

  // At start: builds still "building" whose deployment is not in `active`
  // failed (the controller stopped under them), then collect().
  Status recover(const std::set<std::string>& active);
  // Removes every directory under the root that no ready or running build
  // owns and no live machine boots from: the files of builds replaced or
  // removed while deployments used them, once those are over, and what a
  // crash left.
  Status collect();

  // The build directories that live deployments' machines boot from. A
  // build replaced or removed meanwhile loses its record at once and its
  // files only at the next collect() after they are unused: a machine the
  // deployment launches later still finds them.
  using InUse = std::function<std::set<std::string>()>;
  void set_in_use(InUse in_use) { in_use_ = std::move(in_use); }
  // The build directories a node's reference names (its layers, its disk).
  std::set<std::string> dirs_named_in(const Value& reference) const;
  // Bytes the ready builds take.
  Result<int64_t> bytes();
  const std::string& root() const { return root_; }

 private:
  Result<ImageBuild> decode(const ImageBuildRow& row);
  Result<std::vector<ImageBuild>> of_cloud(const std::string& name, const std::string& cloud);
  Status write(const ImageBuild& build);
  // Removes the build's files unless a live machine boots from them.
  Status remove_files(const ImageBuild& build);

  ImageBuildRows rows_;
  const Clock& clock_;
  std::string root_;
  InUse in_use_;
};

}  // namespace slipway::controller
