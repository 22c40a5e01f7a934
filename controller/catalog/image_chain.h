// An image and its parents, resolved to exact versions: what a node of a
// deployment runs. Parents come first at every step (SPEC section 2).
#pragma once

#include <string>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"
#include "controller/catalog/catalog.h"

namespace slipway::controller {

struct ImageResources {
  int64_t cpus = 1;
  int64_t memory_mb = 512;
  int64_t disk_gb = 4;
};

class ImageChain {
 public:
  // The reference image first, the image itself last.
  const std::vector<StoredModule>& modules() const { return modules_; }
  const StoredModule& image() const { return modules_.back(); }
  const StoredModule& root() const { return modules_.front(); }

  const std::string& platform() const { return root().module.image.platform; }
  const Value& reference() const { return root().module.image.reference; }
  // Every package, parents' first, each once.
  std::vector<std::string> packages() const;
  // Inputs of the whole chain; a child's default replaces its parent's.
  std::vector<InputParameter> inputs() const;
  const InputParameter* input(const std::string& name) const;
  std::vector<std::string> outputs() const;
  bool has_output(const std::string& name) const;
  ImageResources resources() const;
  // "base/host@1", "examples/hello/server@2": what the deployment records.
  std::vector<std::string> refs() const;

  // The steps the agent runs: pre-install, packages, post-install and
  // deployment (state Executing), report (state SendingReports). `built`
  // leading modules of the chain are in the image the machine boots (a
  // build of the image factory holds them): their pre-install, packages
  // and post-install are left out; every deployment and report script runs.
  proto::Plan plan(size_t built = 0) const;
  // What a build of this image runs on a machine of the image of its first
  // `built` modules: the pre-install, packages and post-install of the rest,
  // then a sync, so the disk holds it all when the machine is snapshotted.
  proto::Plan build_plan(size_t built) const;
  // A digest of everything a build of the first `depth` modules holds: the
  // reference image (platform and references), and each module's name,
  // packages, pre-install and post-install. A change to anything else
  // (descriptions, parameters, deployment scripts) leaves it as it was.
  std::string build_hash(size_t depth) const;
  // The on-scale scripts, parents first.
  std::vector<proto::Step> on_scale_steps(int64_t round) const;

  friend Result<ImageChain> resolve_image_chain(const std::string& reference,
                                                const ModuleLookup& lookup);

 private:
  std::vector<StoredModule> modules_;
};

// Follows parents from `reference` (NAME or NAME@N). Fails naming what is
// missing, not an image, or a cycle ("a -> b -> a").
Result<ImageChain> resolve_image_chain(const std::string& reference, const ModuleLookup& lookup);

}  // namespace slipway::controller
