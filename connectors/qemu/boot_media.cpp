#include "connectors/qemu/boot_media.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs.h"
#include "connectors/common/command.h"
#include "connectors/qemu/vm_dir.h"

namespace slipway::connectors::qemu {
namespace {

constexpr std::chrono::seconds kToolTimeout{30};

// Quiet and fast: no keyboard or mouse probing, no crypto self-tests, no
// waiting on a TSC that TCG cannot make stable, and on a panic the machine
// stops (-no-reboot turns the reboot into qemu's exit).
constexpr const char* kBootArguments =
    "console=ttyS0 panic=-1 quiet loglevel=1 i8042.noaux i8042.nokbd i8042.nopnp "
    "mitigations=off tsc=reliable no_timer_check cryptomgr.notests";

bool safe_relative(const std::string& path) {
  if (path.empty() || path[0] == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// IMAGES/PATH (or PATH itself when absolute), which must be a readable file.
Result<std::string> image_file(const Value& reference, const char* key,
                               const std::string& images_dir) {
  const Value& value = reference[key];
  if (!value.is_string() || value.str().empty()) {
    return Error(Code::kInvalidArgument,
                 std::string("the image's qemu reference has a ") + key + " that is not a path");
  }
  const std::string& name = value.str();
  std::string path;
  if (name[0] == '/') {
    path = name;
  } else if (!safe_relative(name)) {
    return Error(Code::kInvalidArgument, std::string("the image's qemu ") + key + " \"" + name +
                                             "\" must be a path inside the images directory");
  } else if (images_dir.empty()) {
    return Error(Code::kFailedPrecondition, std::string("the image's qemu ") + key + " \"" + name +
                                                "\" needs an images directory, and there is none");
  } else {
    path = images_dir + "/" + name;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error(Code::kNotFound,
                 std::string("the image's ") + key + " " + path + " does not exist" +
                     (name[0] == '/' ? "" : " (is the image built? see images/README.md)"));
  }
  if (!S_ISREG(st.st_mode) || ::access(path.c_str(), R_OK) != 0) {
    return Error(Code::kInvalidArgument,
                 std::string("the image's ") + key + " " + path + " is not a readable file");
  }
  return path;
}

// qcow2 by its magic; anything else is taken as a raw disk.
Result<std::string> disk_format(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(Code::kIo, "cannot read " + path + ": " + std::strerror(errno));
  char magic[4] = {};
  ssize_t n = ::read(fd, magic, sizeof magic);
  ::close(fd);
  return std::string(n == 4 && std::memcmp(magic, "QFI\xfb", 4) == 0 ? "qcow2" : "raw");
}

Status write_private_file(const std::string& path, const std::string& content) {
  return fs::write_file_atomic(path, content, 0600);
}

}  // namespace

Result<BootFiles> resolve_boot_files(const Value& reference, const std::string& images_dir) {
  if (!reference.is_object()) {
    return Error(Code::kInvalidArgument,
                 "the image's qemu reference must be a mapping with a kernel (and an initrd, a "
                 "disk)");
  }
  for (const auto& [key, value] : reference.fields()) {
    (void)value;
    if (key != "kernel" && key != "initrd" && key != "disk") {
      return Error(Code::kInvalidArgument, "the image's qemu reference has an unknown key \"" +
                                               key + "\" (it knows kernel, initrd and disk)");
    }
  }
  if (reference["kernel"].is_null()) {
    return Error(Code::kInvalidArgument, "the image's qemu reference names no kernel");
  }
  BootFiles files;
  SLIPWAY_ASSIGN_OR_RETURN(files.kernel, image_file(reference, "kernel", images_dir));
  // vmlinuz -> vmlinux in the same directory, when it is there.
  const size_t slash = files.kernel.rfind('/');
  const size_t z = files.kernel.rfind("vmlinuz");
  if (z != std::string::npos && z > slash) {
    std::string uncompressed = files.kernel;
    uncompressed[z + 6] = 'x';
    if (::access(uncompressed.c_str(), R_OK) == 0) files.kernel = uncompressed;
  }
  if (!reference["initrd"].is_null()) {
    SLIPWAY_ASSIGN_OR_RETURN(files.initrd, image_file(reference, "initrd", images_dir));
  }
  if (!reference["disk"].is_null()) {
    SLIPWAY_ASSIGN_OR_RETURN(files.disk, image_file(reference, "disk", images_dir));
    SLIPWAY_ASSIGN_OR_RETURN(files.disk_format, disk_format(files.disk));
  }
  return files;
}

std::string kernel_command_line(const KernelNetwork& network, bool has_disk) {
  std::string line = kBootArguments;
  if (has_disk) line += " root=/dev/vda rw";
  line += " slipway.ip=" + network.address + " slipway.gw=" + network.gateway;
  if (!network.dns.empty()) {
    line += " slipway.dns=";
    for (size_t i = 0; i < network.dns.size(); ++i) line += (i ? "," : "") + network.dns[i];
  }
  line += " slipway.hostname=" + network.hostname;
  return line;
}

Status write_seed(const std::string& genisoimage, const std::string& dir, const MachineSpec& spec,
                  const std::string& hostname) {
  // The files exist only while the image is made: user-data holds the
  // instance's secret key.
  const std::string staging = dir + "/seed";
  if (::mkdir(staging.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error(Code::kIo, "cannot create " + staging + ": " + std::strerror(errno));
  }
  Status status = write_private_file(staging + "/user-data", spec.context.to_user_data());
  if (status.ok()) {
    status = write_private_file(staging + "/meta-data", "instance-id: " + spec.machine_id +
                                                            "\nlocal-hostname: " + hostname + "\n");
  }
  const std::string iso = dir + "/" + kSeedIso;
  if (status.ok()) {
    // Made 0600 before genisoimage writes into it.
    int fd = ::open(iso.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      status = Error(Code::kIo, "cannot create " + iso + ": " + std::strerror(errno));
    } else {
      ::close(fd);
    }
  }
  if (status.ok()) {
    status = run_checked({genisoimage, "-quiet", "-output", iso, "-volid", "cidata", "-joliet",
                          "-rock", staging + "/user-data", staging + "/meta-data"},
                         "", kToolTimeout, "cannot make the NoCloud seed");
  }
  (void)fs::remove_tree(staging);
  return status;
}

Status make_disk_overlay(const std::string& qemu_img, const std::string& dir,
                         const BootFiles& files) {
  return run_checked({qemu_img, "create", "-q", "-f", "qcow2", "-F", files.disk_format, "-b",
                      files.disk, dir + "/" + kDiskOverlay},
                     "", kToolTimeout, "cannot make the machine's disk over " + files.disk);
}

}  // namespace slipway::connectors::qemu
