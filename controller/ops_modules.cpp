// Control operations on the module catalog, and the modules slipwayd ships.
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "common/fs.h"
#include "common/log.h"
#include "controller/controller.h"

namespace slipway::controller {

namespace {

Value summary(const Catalog& catalog, const StoredModule& m, const ModuleAccess& access) {
  (void)catalog;
  return Value::object()
      .set("name", m.name)
      .set("version", m.version)
      .set("kind", m.module.kind == ModuleKind::kImage ? "image" : "deployment")
      .set("description", m.module.description)
      .set("owner", m.owner_name)
      .set("visibility", access.visibility)
      .set("group", access.group)
      .set("created_at", m.created_at);
}

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

void Controller::register_module_ops() {
  control_->handle("module.push", [this](const Caller& caller, const Value& request, Reply reply) {
    std::vector<SourceFile> files;
    for (const auto& f : request["files"].items())
      files.push_back(SourceFile{f["path"].str(), f["content"].str()});
    auto pushed = catalog_->push(caller, files);
    if (!pushed.ok()) return reply.fail(pushed.error());
    Value out = Value::array();
    for (const auto& p : *pushed) {
      out.push(
          Value::object().set("name", p.name).set("version", p.version).set("created", p.created));
      if (p.created) {
        events_->record("", "module.pushed",
                        caller.user + " pushed " + p.name + "@" + std::to_string(p.version));
      }
    }
    reply.ok(std::move(out));
  });

  control_->handle("module.list", [this](const Caller& caller, const Value&, Reply reply) {
    auto modules = catalog_->list(caller);
    if (!modules.ok()) return reply.fail(modules.error());
    Value out = Value::array();
    for (const auto& m : *modules) {
      auto access = catalog_->access(m.name);
      if (access.ok()) out.push(summary(*catalog_, m, *access));
    }
    reply.ok(std::move(out));
  });

  control_->handle("module.show", [this](const Caller& caller, const Value& request, Reply reply) {
    auto m = catalog_->get(caller, request["module"].str());
    if (!m.ok()) return reply.fail(m.error());
    auto access = catalog_->access(m->name);
    if (!access.ok()) return reply.fail(access.error());
    reply.ok(summary(*catalog_, *m, *access).set("content", m->content).set("digest", m->digest));
  });

  control_->handle("module.versions",
                   [this](const Caller& caller, const Value& request, Reply reply) {
                     auto all = catalog_->versions(caller, request["name"].str());
                     if (!all.ok()) return reply.fail(all.error());
                     Value out = Value::array();
                     for (const auto& m : *all) {
                       out.push(Value::object()
                                    .set("version", m.version)
                                    .set("created_at", m.created_at)
                                    .set("owner", m.owner_name)
                                    .set("digest", m.digest.substr(0, 12)));
                     }
                     reply.ok(std::move(out));
                   });

  control_->handle("module.rm", [this](const Caller& caller, const Value& request, Reply reply) {
    auto removed = catalog_->remove(caller, request["module"].str());
    if (!removed.ok()) return reply.fail(removed.error());
    Value out = Value::array();
    for (const auto& r : *removed) out.push(r);
    events_->record("", "module.removed", caller.user + " removed " + request["module"].str());
    reply.ok(Value::object().set("removed", std::move(out)));
  });

  control_->handle("module.share", [this](const Caller& caller, const Value& request, Reply reply) {
    Status shared = catalog_->share(caller, request["name"].str(), request["visibility"].str(),
                                    request["group"].str());
    if (!shared.ok()) return reply.fail(shared.error());
    reply.ok(Value::object()
                 .set("name", request["name"])
                 .set("visibility", request["visibility"])
                 .set("group", request["group"]));
  });
}

}  // namespace slipway::controller
