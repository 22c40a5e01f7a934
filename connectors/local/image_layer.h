// A built image of the local cloud: the writable layer of the machine it was
// built on, taken whole when the build is over (docs/images.md), as one
// ext4 file system in a file. It is flattened, not stacked: an image built
// on another built image started with that image's layer under it, so its
// own holds both builds' files, and removing one never breaks the other.
//
//   DIR/layer.ext4   the machine's upper layer, whiteouts and opaque
//                    directories as overlayfs wrote them
//
// A machine of the image mounts it read-only from a loop device, in its own
// mount namespace, as the middle layer of its root: nothing is copied at
// launch. A file system of its own because overlayfs cannot stack a
// directory over the host's root: layers of one file system may not nest,
// and every directory of the host is inside "/".
//
// The reference of such an image is its parent's, with the layer added:
//   local: {rootfs: host, layer: /var/lib/slipway/builds/ID/layer.ext4}
//
// Plain functions over the file system: thread-safe for distinct machines.
#pragma once

#include <string>

#include "common/status.h"
#include "common/value.h"

namespace slipway::connectors::local {

// Moves the stopped machine's upper layer into DIR (copies it when DIR is on
// another file system), leaves out what belongs to that one machine (its
// contextualization and key, the agent and its state, its host name and
// addresses: every machine gets its own), makes DIR/layer.ext4 of it, and
// returns the image's reference: `reference` with `layer` set.
Result<Value> take_image_layer(const std::string& upper, const Value& reference,
                               const std::string& dir);

// The layer file a reference names, "" for none. kInvalidArgument when
// `layer` is not an absolute path; kNotFound when the file is missing.
Result<std::string> image_layer(const Value& reference);

}  // namespace slipway::connectors::local
