#include "connectors/local/image_layer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "common/fs.h"
#include "connectors/common/command.h"
#include "connectors/local/machine_root.h"

namespace slipway::connectors::local {
namespace {

// Copying or packing a layer of a few hundred megabytes takes seconds; ten
// minutes cover gigabytes on a slow disk.
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

namespace {

// DIR/layer.ext4 of the directory `tree`: room for what it holds and a
// margin for the file system's own metadata, no journal (it is only ever
// read), no lost+found (a machine would see it at its root).
Status make_layer_file(const std::string& tree, const std::string& file) {
  SLIPWAY_ASSIGN_OR_RETURN(std::string mke2fs, find_program("mke2fs"));
  SLIPWAY_ASSIGN_OR_RETURN(std::string debugfs, find_program("debugfs"));
  const fs::TreeUsage usage = fs::tree_usage(tree);
  const int64_t inodes = usage.inodes;
  const int64_t bytes = usage.bytes * 5 / 4 + inodes * 512 + (32 << 20);
  const std::string kib = std::to_string(bytes / 1024) + "k";
  SLIPWAY_RETURN_IF_ERROR(run_checked({mke2fs, "-q", "-F", "-t", "ext4", "-O", "^has_journal",
                                       "-m", "0", "-N", std::to_string(inodes + 1024), "-d", tree,
                                       file, kib},
                                      "", kCopyTimeout, "cannot make the image's layer " + file));
  return run_checked({debugfs, "-w", "-R", "rmdir /lost+found", file}, "", kCopyTimeout,
                     "cannot finish the image's layer " + file);
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
  const std::string file = dir + "/layer.ext4";
  SLIPWAY_RETURN_IF_ERROR(make_layer_file(layer, file));
  SLIPWAY_RETURN_IF_ERROR(fs::remove_tree(layer));
  SLIPWAY_ASSIGN_OR_RETURN(std::vector<std::string> below, image_layers(reference));
  Value layers = Value::array();
  layers.push(file);
  for (const auto& l : below) layers.push(l);
  Value out = reference;
  out.set("layers", layers);
  return out;
}

Result<std::vector<std::string>> image_layers(const Value& reference) {
  const Value& layers = reference["layers"];
  std::vector<std::string> out;
  if (layers.is_null()) return out;
  auto invalid = [] {
    return Error(Code::kInvalidArgument,
                 "the image's local layers must be a list of at most 32 absolute paths of files");
  };
  if (!layers.is_array() || layers.items().size() > 32) return invalid();
  for (const auto& layer : layers.items()) {
    if (!layer.is_string() || layer.str().empty() || layer.str()[0] != '/') return invalid();
    struct stat st {};
    if (::stat(layer.str().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Error(Code::kNotFound, "the image's layer " + layer.str() +
                                        " is missing: build the image again (slipway image build)");
    }
    SLIPWAY_RETURN_IF_ERROR(check_layer_path(layer.str()));
    out.push_back(layer.str());
  }
  return out;
}

}  // namespace slipway::connectors::local
