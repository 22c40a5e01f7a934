// A temporary directory removed with everything in it when the test ends.
#pragma once

#include <stdlib.h>

#include <stdexcept>
#include <string>

#include "common/fs.h"

namespace slipway::test {

class TempDir {
 public:
  TempDir() : TempDir("/tmp") {}
  // In `parent` instead of /tmp: for tests whose subject treats /tmp specially
  // (a local machine gets a fresh tmpfs there).
  explicit TempDir(const std::string& parent) {
    std::string pattern = parent + "/slipway-test-XXXXXX";
    // Throws rather than fall back to another directory, which the
    // destructor would then empty.
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create " + pattern);
    path_ = pattern;
  }
  ~TempDir() { (void)fs::remove_tree(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace slipway::test
