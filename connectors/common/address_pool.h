// The machine addresses of a bridged cloud's subnet: which are taken, and
// which one a new machine gets. Next fit rather than lowest free: a
// just-released address rests a while, so connection-tracking and ARP
// entries of the machine that had it can expire.
//
// Thread-safe: one mutex over the set.
#pragma once

#include <cstdint>
#include <set>

#include "common/mutex.h"
#include "common/status.h"
#include "connectors/common/ipv4.h"

namespace slipway::connectors {

class AddressPool {
 public:
  explicit AddressPool(Ipv4Subnet subnet) : subnet_(subnet) {}

  // Marks an address taken (what a restarted slipwayd reads from records).
  void mark_used(uint32_t address) LOCKS_EXCLUDED(mutex_);
  // A free address, now taken; kFailedPrecondition when none is left.
  Result<uint32_t> reserve() LOCKS_EXCLUDED(mutex_);
  void release(uint32_t address) LOCKS_EXCLUDED(mutex_);

 private:
  const Ipv4Subnet subnet_;
  Mutex mutex_;
  std::set<uint32_t> used_ GUARDED_BY(mutex_);
  uint32_t next_offset_ GUARDED_BY(mutex_) = 0;  // where the next search starts
};

}  // namespace slipway::connectors
