// Who is asking: a user of the control socket, identified by the kernel
// (SO_PEERCRED, SO_PEERGROUPS), never by the request.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace slipway::controller {

struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  std::vector<gid_t> groups;  // primary and supplementary
  bool admin = false;         // root, or a member of the admin group
  std::string user;           // the uid's name, or the number

  bool in_group(gid_t group) const {
    return gid == group || std::find(groups.begin(), groups.end(), group) != groups.end();
  }
  // The controller itself, for built-in modules and internal work.
  static Caller system() {
    Caller c;
    c.admin = true;
    c.user = "slipwayd";
    return c;
  }
};

// Resolves a group name to its gid; false when there is no such group.
std::optional<gid_t> lookup_group(const std::string& name);

}  // namespace slipway::controller
