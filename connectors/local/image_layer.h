// A built image of the local cloud: one directory, the writable layer of the
// machine it was built on, taken whole when the build is over
// (docs/images.md). It is flattened, not stacked: a machine of the image
// starts with a copy of it as its own upper layer over the reference root
// file system, so an image built on another built image holds both builds'
// files, and removing one never breaks the other. (Overlayfs cannot stack it
// as a second lower layer over the host's root: layers may not nest, and
// every directory of the host is inside "/".)
//
//   DIR/layer/      the machine's upper layer, whiteouts and opaque
//                   directories as overlayfs wrote them
//
// The reference of such an image is its parent's, with the layer added:
//   local: {rootfs: host, layer: /var/lib/slipway/images/ID/layer}
//
// Plain functions over the file system: thread-safe for distinct machines.
#pragma once

#include <string>

#include "common/status.h"
#include "common/value.h"

namespace slipway::connectors::local {

// Moves the stopped machine's upper layer to DIR/layer (copies it when DIR
// is on another file system), leaves out what belongs to that one machine
// (its contextualization and key, the agent and its state, its host name and
// addresses: every machine gets its own), and returns the image's reference:
// `reference` with `layer` set.
Result<Value> take_image_layer(const std::string& upper, const Value& reference,
                               const std::string& dir);

// The layer a reference names, "" for none. kInvalidArgument when `layer`
// is not an absolute path of a directory.
Result<std::string> image_layer(const Value& reference);

// Copies `layer` into a new machine's empty upper layer, keeping owners,
// modes, times, hard links, whiteouts and the overlay's extended attributes.
Status copy_image_layer(const std::string& layer, const std::string& upper);

}  // namespace slipway::connectors::local
