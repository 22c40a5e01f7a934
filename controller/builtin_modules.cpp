// The modules slipwayd ships: base/host and the reference images built
// under images/.
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "common/fs.h"
#include "common/log.h"
#include "controller/controller.h"

namespace slipway::controller {

namespace {

// The ID from /etc/os-release (or one it is like), as a module platform.
std::string host_platform() {
  auto text = fs::read_file("/etc/os-release", 64 << 10);
  if (!text.ok()) return "busybox";
  std::string ids;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("ID=", 0) == 0 || line.rfind("ID_LIKE=", 0) == 0)
      ids += " " + line.substr(line.find('=') + 1);
  }
  for (const char* known : {"debian", "ubuntu", "alpine", "fedora", "centos"}) {
    if (ids.find(known) != std::string::npos) return known;
  }
  return "busybox";
}

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The module of a reference image built under images/ (images/README.md),
// naming only the clouds whose files exist; "" when there are none.
std::string reference_image_module(const std::string& images_dir, const std::string& image,
                                   const std::string& description, const std::string& platform,
                                   const std::string& extra) {
  const std::string dir = images_dir + "/" + image;
  std::string references;
  if (is_directory(dir + "/rootfs")) references += "  local: {rootfs: " + image + "}\n";
  const bool has_kernel = is_file(dir + "/vmlinuz");
  if (image == "busybox" && has_kernel && is_file(dir + "/initramfs.cpio")) {
    references += "  qemu: {kernel: busybox/vmlinuz, initrd: busybox/initramfs.cpio}\n";
  }
  if (image != "busybox" && has_kernel && is_file(dir + "/initrd.img") &&
      is_file(dir + "/disk.qcow2")) {
    references += "  qemu: {kernel: " + image + "/vmlinuz, initrd: " + image +
                  "/initrd.img, disk: " + image + "/disk.qcow2}\n";
  }
  if (references.empty()) return "";
  return "kind: image\nname: base/" + image + "\ndescription: " + description +
         "\nplatform: " + platform + "\n" + extra + "reference:\n" + references;
}

}  // namespace

Status Controller::install_builtin_modules() {
  // Like the original's Public/BaseImages: present from the first start.
  std::string host =
      "kind: image\n"
      "name: base/host\n"
      "description: The host's own root file system, seen through an overlay by local machines\n"
      "platform: " +
      host_platform() +
      "\n"
      "reference:\n"
      "  local: {rootfs: host}\n"
      "  process: {}\n";
  auto installed = catalog_->install_builtin(host, "built-in base/host");
  if (!installed.ok()) return installed.error().wrap("installing base/host");
  if (installed->created)
    LOG_INFO("installed built-in module base/host@%lld",
             static_cast<long long>(installed->version));

  // The reference images, for the clouds their built files can serve.
  const std::string images = find_images_dir();
  const std::vector<std::string> images_modules = {
      reference_image_module(images, "busybox",
                             "Busybox and the agent, no C library (images/busybox)", "busybox",
                             "resources: {memory_mb: 128}\n"),
      reference_image_module(images, "debian-12",
                             "Debian 12 minbase and the agent (images/debian-12)", "debian", ""),
  };
  for (const auto& yaml : images_modules) {
    if (yaml.empty()) continue;
    auto image = catalog_->install_builtin(yaml, "built-in reference image");
    if (!image.ok()) return image.error().wrap("installing a reference image's module");
    if (image->created) {
      LOG_INFO("installed built-in module %s@%lld from %s", image->name.c_str(),
               static_cast<long long>(image->version), images.c_str());
    }
  }
  return ok_status();
}

}  // namespace slipway::controller
