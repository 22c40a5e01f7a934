// A built image of the local cloud: the writable layer of the machine it was
// built on, taken whole when the build is over (docs/images.md), as one
// ext4 file system in a file:
//
//   DIR/layer.ext4   the machine's upper layer, whiteouts and opaque
//                    directories as overlayfs wrote them
//
// A machine of the image mounts it read-only from a loop device, in its own
// mount namespace, between its upper layer and the reference root: nothing
// is copied at launch. A file system of its own because overlayfs cannot
// stack a directory over the host's root: layers of one file system may not
// nest, and every directory of the host is inside "/".
//
// Layers stack: an image built on its parent's build holds only what its own
// steps changed, over the parent's layers. Its reference is its parent's
// with its own layer first:
//   local: {rootfs: host, layers: [/var/lib/slipway/builds/CHILD/layer.ext4,
//                                  /var/lib/slipway/builds/PARENT/layer.ext4]}
// The child is usable only while that parent build is the parent's ready one
// (image_builds.h), so a parent layer is never removed under a usable child.
//
// Plain functions over the file system: thread-safe for distinct machines.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace slipway::connectors::local {

// Moves the stopped machine's upper layer into DIR (copies it when DIR is on
// another file system), leaves out what belongs to that one machine (its
// contextualization and key, the agent and its state, its host name and
// addresses: every machine gets its own), makes DIR/layer.ext4 of it, and
// returns the image's reference: `reference` with the new layer first.
Result<Value> take_image_layer(const std::string& upper, const Value& reference,
                               const std::string& dir);

// The layer files a reference names, topmost first; none for a reference
// image. kInvalidArgument when `layers` is not a list of absolute paths (at
// most 32); kNotFound when a file is missing.
Result<std::vector<std::string>> image_layers(const Value& reference);

}  // namespace slipway::connectors::local
