#include "controller/catalog/caller.h"

#include <grp.h>

namespace slipway::controller {

bool lookup_group(const std::string& name, gid_t* gid) {
  group entry{};
  group* found = nullptr;
  std::vector<char> buffer(16384);
  if (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return false;
  }
  *gid = found->gr_gid;
  return true;
}

}  // namespace slipway::controller
