#include "common/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

namespace slipway::fs {
namespace {

Error io_error(const std::string& what, const std::string& path) {
  return Error(errno == ENOENT
                   ? Code::kNotFound
                   : (errno == EACCES || errno == EPERM ? Code::kPermissionDenied : Code::kIo),
               what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Result<std::string> read_file(const std::string& path, size_t max_size) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return io_error("cannot read", path);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read", path);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_size) {
      return Error(Code::kInvalidArgument,
                   path + " is larger than " + std::to_string(max_size) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status write_kernel_file(const std::string& path, const std::string& content) {
  Fd f{::open(path.c_str(), O_WRONLY | O_CLOEXEC)};
  if (f.fd < 0) return io_error("cannot write", path);
  ssize_t n;
  do {
    n = ::write(f.fd, content.data(), content.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return io_error("cannot write \"" + content + "\" to", path);
  if (static_cast<size_t>(n) != content.size()) {
    return Error(Code::kIo, "short write to " + path);
  }
  return ok_status();
}

Status write_file_atomic(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)};
  if (f.fd < 0) return io_error("cannot write", tmp);
  if (::fchmod(f.fd, mode) != 0) return io_error("cannot chmod", tmp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(f.fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error err = io_error("cannot write", tmp);
      ::unlink(tmp.c_str());
      return err;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(f.fd) != 0) {
    Error err = io_error("cannot sync", tmp);
    ::unlink(tmp.c_str());
    return err;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error err = io_error("cannot rename into", path);
    ::unlink(tmp.c_str());
    return err;
  }
  return ok_status();
}

Status make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) return ok_status();
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      return io_error("cannot create directory", partial);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error(Code::kIo, path + " is not a directory");
  }
  return ok_status();
}

namespace {
Status remove_at(int parent, const char* name, dev_t device, const std::string& shown) {
  struct stat st {};
  if (::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? ok_status() : io_error("cannot stat", shown);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parent, name, 0) != 0 && errno != ENOENT)
      return io_error("cannot remove", shown);
    return ok_status();
  }
  if (st.st_dev != device) return Error(Code::kFailedPrecondition, shown + " is a mount point");
  int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", shown);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return io_error("cannot list", shown);
  }
  Status status;
  while (dirent* entry = ::readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    Status child = remove_at(fd, entry->d_name, device, shown + "/" + entry->d_name);
    if (!child.ok() && status.ok()) status = child;
  }
  ::closedir(dir);
  if (!status.ok()) return status;
  if (::unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return io_error("cannot remove", shown);
  }
  return ok_status();
}
}  // namespace

Status remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    return errno == ENOENT ? ok_status() : io_error("cannot stat", path);
  return remove_at(AT_FDCWD, path.c_str(), st.st_dev, path);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string dirname(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return io_error("cannot list", path);
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    names.emplace_back(entry->d_name);
  }
  ::closedir(dir);
  return names;
}

namespace {
// Hard links are counted once, by (device, inode).
void usage_of(const std::string& path, std::set<std::pair<dev_t, ino_t>>& seen, TreeUsage& total) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !seen.insert({st.st_dev, st.st_ino}).second)
    return;
  total.bytes += static_cast<int64_t>(st.st_blocks) * 512;
  total.inodes += 1;
  if (!S_ISDIR(st.st_mode)) return;
  auto names = list_dir(path);
  if (!names.ok()) return;
  for (const auto& name : *names) usage_of(path + "/" + name, seen, total);
}
}  // namespace

TreeUsage tree_usage(const std::string& path) {
  std::set<std::pair<dev_t, ino_t>> seen;
  TreeUsage total;
  usage_of(path, seen, total);
  return total;
}

}  // namespace slipway::fs
