#include "connectors/local/machine_root.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "common/fs.h"
#include "connectors/common/bridge_network.h"

namespace slipway::connectors::local {
namespace {

Error io_error(const std::string& what, const std::string& path) {
  return Error(Code::kIo, what + " " + path + ": " + std::strerror(errno));
}

using fs::Fd;

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> check_root_directory(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Error(Code::kNotFound, "rootfs " + path + " does not exist");
  if (!S_ISDIR(st.st_mode))
    return Error(Code::kInvalidArgument, "rootfs " + path + " is not a directory");
  // lstat: /bin/sh is often a symbolic link, absolute to the image's own root.
  if (!fs::exists(path + "/bin/sh") && !fs::exists(path + "/usr/bin/sh")) {
    return Error(Code::kInvalidArgument, "rootfs " + path + " has no /bin/sh or /usr/bin/sh");
  }
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return io_error("cannot resolve", path);
  SLIPWAY_RETURN_IF_ERROR(check_layer_path(resolved));
  return std::string(resolved);
}

// Makes upper/REL and its parents, each with the mode and owner of the same
// directory in the lower layer (an upper directory's metadata is what the
// machine sees), or root's 0755 where the lower layer has none.
Status make_upper_dirs(const std::string& upper, const std::string& lower, const std::string& rel) {
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = rel.find('/', pos + 1);
    const std::string part = rel.substr(0, pos);
    const std::string target = upper + part;
    if (is_directory(target)) continue;
    struct stat st {};
    mode_t mode = 0755;
    uid_t uid = 0;
    gid_t gid = 0;
    if (::lstat((lower == "/" ? part : lower + part).c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return Error(Code::kInvalidArgument,
                     "the root file system has " + part + " as something other than a directory");
      }
      mode = st.st_mode & 07777;
      uid = st.st_uid;
      gid = st.st_gid;
    }
    if (::mkdir(target.c_str(), mode) != 0 && errno != EEXIST)
      return io_error("cannot create", target);
    if (::chown(target.c_str(), uid, gid) != 0 || ::chmod(target.c_str(), mode) != 0) {
      return io_error("cannot set the owner of", target);
    }
  }
  return ok_status();
}

// No fsync: the upper layer dies with the machine, and a host crash takes both.
Status write_new_file(const std::string& path, const std::string& content, mode_t mode) {
  Fd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode));
  if (f.fd < 0) return io_error("cannot write", path);
  if (::fchmod(f.fd, mode) != 0) return io_error("cannot chmod", path);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(f.fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot write", path);
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

Status copy_file(const std::string& from, const std::string& to, mode_t mode) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) return io_error("cannot read", from);
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode));
  if (out.fd < 0) return io_error("cannot write", to);
  if (::fchmod(out.fd, mode) != 0) return io_error("cannot chmod", to);
  // In-kernel copy; plain read/write where the file systems do not allow it.
  for (;;) {
    ssize_t n = ::copy_file_range(in.fd, nullptr, out.fd, nullptr, 1 << 30, 0);
    if (n == 0) return ok_status();
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
      return io_error("cannot copy into", to);
    }
    break;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(in.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read", from);
    if (n == 0) return ok_status();
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.fd, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return io_error("cannot write", to);
      done += w;
    }
  }
}

bool debian_like(const std::string& lower, const std::string& platform) {
  return platform == "debian" || platform == "ubuntu" ||
         fs::exists((lower == "/" ? "" : lower) + "/usr/sbin/invoke-rc.d");
}

}  // namespace

Status check_layer_path(const std::string& path) {
  if (path.find_first_of(",:\\") != std::string::npos) {
    return Error(Code::kInvalidArgument,
                 "the path " + path + " holds ',', ':' or '\\', which an overlay layer cannot");
  }
  return ok_status();
}

Result<std::string> resolve_rootfs(const Value& reference, const std::string& images_dir) {
  const Value& rootfs = reference["rootfs"];
  if (!rootfs.is_string() || rootfs.str().empty()) {
    return Error(Code::kInvalidArgument,
                 "the image's local reference must name a rootfs (host, a directory or an image)");
  }
  const std::string& name = rootfs.str();
  if (name == "host") return std::string("/");
  if (name[0] == '/') return check_root_directory(name);
  if (name.find('/') == std::string::npos && name != "." && name != "..") {
    const std::string path = images_dir + "/" + name + "/rootfs";
    if (images_dir.empty() || !is_directory(path)) {
      return Error(Code::kNotFound,
                   "rootfs \"" + name + "\" names no built image (" +
                       (images_dir.empty() ? "no images directory" : path + " does not exist") +
                       ")");
    }
    return check_root_directory(path);
  }
  return Error(Code::kInvalidArgument, "rootfs \"" + name +
                                           "\" must be host, an absolute directory or the name of "
                                           "an image");
}

Status populate_upper(const MachineDir& dir, const std::string& lower, const UpperLayer& layer) {
  const std::string upper = dir.upper();
  SLIPWAY_RETURN_IF_ERROR(make_upper_dirs(upper, lower, "/etc"));
  SLIPWAY_RETURN_IF_ERROR(make_upper_dirs(upper, lower, "/usr/sbin"));
  SLIPWAY_RETURN_IF_ERROR(make_upper_dirs(upper, lower, "/var/lib"));
  for (const char* private_dir : {"/etc/slipway", kAgentStateDirInMachine}) {
    const std::string path = upper + private_dir;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return io_error("cannot create", path);
  }
  SLIPWAY_RETURN_IF_ERROR(
      write_new_file(upper + kContextPathInMachine, layer.context->to_text(), 0600));
  SLIPWAY_RETURN_IF_ERROR(copy_file(layer.agent_path, upper + kAgentPathInMachine, 0755));
  SLIPWAY_RETURN_IF_ERROR(write_new_file(upper + "/etc/hostname", layer.hostname + "\n", 0644));
  SLIPWAY_RETURN_IF_ERROR(
      write_new_file(upper + "/etc/hosts",
                     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
                         layer.address + "\t" + layer.hostname + "\n",
                     0644));
  const std::string resolv = host_resolv_conf();
  if (!resolv.empty()) {
    SLIPWAY_RETURN_IF_ERROR(write_new_file(upper + "/etc/resolv.conf", resolv, 0644));
  }
  if (debian_like(lower, layer.platform)) {
    SLIPWAY_RETURN_IF_ERROR(write_new_file(upper + "/usr/sbin/policy-rc.d",
                                           "#!/bin/sh\n# Written by slipway: "
                                           "let packages start their services.\nexit 0\n",
                                           0755));
  }
  return ok_status();
}

}  // namespace slipway::connectors::local
