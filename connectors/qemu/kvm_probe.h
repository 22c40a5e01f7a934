// Whether qemu should use KVM or TCG on this host.
//
// A /dev/kvm that opens, and even a VM that KVM_CREATE_VM makes, prove
// little: under a paravirtual KVM (Firecracker's kvm_pvm, nested setups) a
// guest may run one instruction at a time, orders of magnitude slower than
// TCG. So the decision is, in order: the accel setting when it is not auto;
// TCG when /dev/kvm does not open, the CPU shows neither vmx nor svm, or
// kvm_pvm is loaded; otherwise a probe that puts one vCPU in 64-bit long mode
// and runs 1,000,000 iterations of a dec/jnz loop (about 1 ms on real KVM)
// under a 250 ms deadline: KVM when it finishes in time, TCG when not.
//
// Thread-safe; the probe runs on a thread of its own, which a real-time
// signal (with an empty handler) kicks out of KVM_RUN at the deadline.
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"
#include "connectors/qemu/settings.h"

namespace slipway::connectors::qemu {

struct AccelChoice {
  bool kvm = false;
  std::string reason;  // one phrase for the log: "no vmx or svm flag in /proc/cpuinfo"
};

// Decides as above. An error only when the setting says kvm and /dev/kvm
// cannot be opened.
Result<AccelChoice> choose_accel(Accel setting);

// The probe alone: true when the loop finished within `deadline`, false when
// it was too slow; an error when KVM could not run a vCPU at all. `took` gets
// the time it ran.
Result<bool> probe_kvm(std::chrono::milliseconds deadline, std::chrono::microseconds* took);

}  // namespace slipway::connectors::qemu
