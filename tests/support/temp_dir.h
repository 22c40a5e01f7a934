// A temporary directory removed with everything in it when the test ends.
#pragma once

#include <stdlib.h>

#include <string>

#include "common/fs.h"

namespace slipway::test {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/slipway-test-XXXXXX";
    char* made = ::mkdtemp(pattern);
    path_ = made != nullptr ? made : "/tmp";
  }
  ~TempDir() { (void)fs::remove_tree(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace slipway::test
