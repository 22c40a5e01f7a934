#include "connectors/common/address_pool.h"

namespace slipway::connectors {

void AddressPool::mark_used(uint32_t address) {
  MutexLock lock(mutex_);
  used_.insert(address);
}

Result<uint32_t> AddressPool::reserve() {
  const uint32_t first = subnet_.first_machine_address();
  const uint32_t count = subnet_.last_machine_address() - first + 1;
  MutexLock lock(mutex_);
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t candidate = first + (next_offset_ + i) % count;
    if (used_.insert(candidate).second) {
      next_offset_ = (candidate - first + 1) % count;
      return candidate;
    }
  }
  return Error(Code::kFailedPrecondition, "subnet " + subnet_.to_string() +
                                              " has no free address left (" +
                                              std::to_string(count) + " machines)");
}

void AddressPool::release(uint32_t address) {
  MutexLock lock(mutex_);
  used_.erase(address);
}

}  // namespace slipway::connectors
