#include "connectors/local/image_layer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/fs.h"
#include "connectors/common/command.h"
#include "connectors/local/machine_root.h"

namespace slipway::connectors::local {
namespace {

// Copying a layer of a few hundred megabytes takes seconds; ten minutes
// cover gigabytes on a slow disk.
constexpr std::chrono::minutes kCopyTimeout{10};

// What populate_upper() wrote for the one machine the image was built on.
// A machine of the image gets its own of each.
constexpr const char* kMachineOwnFiles[] = {
    kContextPathInMachine, kAgentPathInMachine, "/etc/hostname",         "/etc/hosts",
    "/etc/resolv.conf",    "/usr/sbin/policy-rc.d",
};

Status copy_tree(const std::string& from, const std::string& to) {
  SLIPWAY_ASSIGN_OR_RETURN(std::string cp, find_program("cp"));
  // GNU cp -a keeps trusted.overlay.* attributes and whiteout devices.
  return run_checked({cp, "-a", "--", from + "/.", to}, "", kCopyTimeout,
                     "cannot copy " + from + " to " + to);
}

}  // namespace

Result<Value> take_image_layer(const std::string& upper, const Value& reference,
                               const std::string& dir) {
  const std::string layer = dir + "/layer";
  if (::rename(upper.c_str(), layer.c_str()) != 0) {
    if (errno != EXDEV) {
      return Error(Code::kIo, "cannot move the machine's layer " + upper + " to " + layer + ": " +
                                  std::strerror(errno));
    }
    if (::mkdir(layer.c_str(), 0755) != 0) {
      return Error(Code::kIo, "cannot create " + layer + ": " + std::strerror(errno));
    }
    SLIPWAY_RETURN_IF_ERROR(copy_tree(upper, layer));
  }
  for (const char* own : kMachineOwnFiles) {
    const std::string path = layer + own;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Error(Code::kIo, "cannot leave " + std::string(own) +
                                  " out of the image: " + std::strerror(errno));
    }
  }
  // The agent's progress, logs and reports are the build's, not the image's.
  SLIPWAY_RETURN_IF_ERROR(fs::remove_tree(layer + kAgentStateDirInMachine));
  (void)::rmdir((layer + "/etc/slipway").c_str());  // only when empty
  Value out = reference;
  out.set("layer", layer);
  return out;
}

Result<std::string> image_layer(const Value& reference) {
  const Value& layer = reference["layer"];
  if (layer.is_null()) return std::string();
  if (!layer.is_string() || layer.str().empty() || layer.str()[0] != '/') {
    return Error(Code::kInvalidArgument,
                 "the image's local layer must be the absolute path of a directory");
  }
  struct stat st {};
  if (::stat(layer.str().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error(Code::kNotFound, "the image's layer " + layer.str() +
                                      " is missing: build the image again (slipway image build)");
  }
  return layer.str();
}

Status copy_image_layer(const std::string& layer, const std::string& upper) {
  return copy_tree(layer, upper);
}

}  // namespace slipway::connectors::local
