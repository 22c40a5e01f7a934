#include "controller/catalog/caller.h"

#include <grp.h>

namespace slipway::controller {

std::optional<gid_t> lookup_group(const std::string& name) {
  group entry{};
  group* found = nullptr;
  std::vector<char> buffer(16384);
  if (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  return found->gr_gid;
}

}  // namespace slipway::controller
