// Small file-system helpers with Status errors that name the path.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::fs {

// A file descriptor, closed when it goes out of scope (-1: none).
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd(other.fd) { other.fd = -1; }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// Reads a whole file, failing when it is larger than `max_size` bytes.
Result<std::string> read_file(const std::string& path, size_t max_size);

// Writes `content` to a temporary file created with `mode`, fsyncs it and
// renames it over `path`, so readers see the old or the new file, never half.
Status write_file_atomic(const std::string& path, const std::string& content, mode_t mode);

// Writes `content` with one write() to a file that must exist: a kernel
// interface (procfs, sysfs, cgroupfs), where one write is one command and
// the error is the kernel's answer to it.
Status write_kernel_file(const std::string& path, const std::string& content);

// mkdir -p, with `mode` for the directories it creates.
Status make_dirs(const std::string& path, mode_t mode);

// rm -rf that does not cross into other file systems (mount points are left alone
// and reported as an error).
Status remove_tree(const std::string& path);

bool exists(const std::string& path);

// The directory part of a path ("a/b/c" -> "a/b", "c" -> ".").
std::string dirname(const std::string& path);

// What a tree takes on disk: its bytes (like du -s) and its files,
// directories and links, each hard-linked file once; what cannot be read
// counts nothing.
struct TreeUsage {
  int64_t bytes = 0;
  int64_t inodes = 0;
};
TreeUsage tree_usage(const std::string& path);

// Names of the entries of a directory, without "." and "..".
Result<std::vector<std::string>> list_dir(const std::string& path);

}  // namespace slipway::fs
