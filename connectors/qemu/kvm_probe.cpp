#include "connectors/qemu/kvm_probe.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "common/fs.h"
#include "common/mutex.h"

namespace slipway::connectors::qemu {
namespace {

constexpr uint32_t kIterations = 1000000;
constexpr std::chrono::milliseconds kDeadline{250};
constexpr size_t kGuestMemory = 4 << 20;
constexpr uint64_t kCodeAddress = 0x100000;
constexpr uint16_t kDonePort = 0x10;
constexpr uint8_t kDoneValue = 0x2a;

// Kicks the probe's thread out of KVM_RUN; its handler does nothing.
int kick_signal() {
  return SIGRTMAX - 3;
}

void on_kick(int) {}

using fs::Fd;

struct Mapping {
  void* address = MAP_FAILED;
  size_t size = 0;
  Mapping(void* a, size_t s) : address(a), size(s) {}
  ~Mapping() {
    if (address != MAP_FAILED) ::munmap(address, size);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  bool ok() const { return address != MAP_FAILED; }
  unsigned char* bytes() const { return static_cast<unsigned char*>(address); }
};

Error kvm_error(const std::string& what) {
  return Error(Code::kIo, what + ": " + std::strerror(errno));
}

// Sets the vCPU up in 64-bit long mode, at the loop, with the first 4 MiB
// identity-mapped by two 2 MiB pages.
Status enter_long_mode(int vcpu, unsigned char* memory) {
  // mov ecx, N; 1: dec ecx; jnz 1b; mov al, 0x2a; out 0x10, al; hlt
  unsigned char code[] = {0xb9, 0,    0,    0,          0,    0xff,      0xc9,
                          0x75, 0xfc, 0xb0, kDoneValue, 0xe6, kDonePort, 0xf4};
  std::memcpy(code + 1, &kIterations, 4);
  std::memcpy(memory + kCodeAddress, code, sizeof code);
  auto* pml4 = reinterpret_cast<uint64_t*>(memory + 0x2000);
  auto* pdpt = reinterpret_cast<uint64_t*>(memory + 0x3000);
  auto* pd = reinterpret_cast<uint64_t*>(memory + 0x4000);
  pml4[0] = 0x3000 | 3;  // present, writable
  pdpt[0] = 0x4000 | 3;
  pd[0] = 0x000000 | 0x83;  // present, writable, 2 MiB page
  pd[1] = 0x200000 | 0x83;

  kvm_sregs sregs{};
  if (::ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) return kvm_error("KVM_GET_SREGS");
  sregs.cr3 = 0x2000;
  sregs.cr4 = 1 << 5;                    // PAE
  sregs.cr0 = 0x80000001 | 0x10 | 0x20;  // PG, PE, ET, NE
  sregs.efer = 0x500;                    // LME, LMA
  kvm_segment code_segment{};
  code_segment.limit = 0xffffffff;
  code_segment.selector = 8;
  code_segment.type = 11;
  code_segment.present = 1;
  code_segment.s = 1;
  code_segment.l = 1;
  code_segment.g = 1;
  kvm_segment data_segment = code_segment;
  data_segment.selector = 16;
  data_segment.type = 3;
  data_segment.l = 0;
  data_segment.db = 1;
  sregs.cs = code_segment;
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data_segment;
  if (::ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) return kvm_error("KVM_SET_SREGS");
  kvm_regs regs{};
  regs.rflags = 2;
  regs.rip = kCodeAddress;
  regs.rsp = 0x200000;
  if (::ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return kvm_error("KVM_SET_REGS");
  return ok_status();
}

// Runs on its own thread, with the kick signal unblocked: one that lands
// inside KVM_RUN ends it with EINTR. Ok(true): the loop ran and the guest
// halted; Ok(false): interrupted.
Result<bool> run_probe_vcpu() {
  Fd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (kvm.fd < 0) return kvm_error("cannot open /dev/kvm");
  if (::ioctl(kvm.fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
    return Error(Code::kFailedPrecondition, "/dev/kvm speaks another API version");
  }
  Fd vm(::ioctl(kvm.fd, KVM_CREATE_VM, 0));
  if (vm.fd < 0) return kvm_error("KVM_CREATE_VM");
  Mapping memory(
      ::mmap(nullptr, kGuestMemory, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
      kGuestMemory);
  if (!memory.ok()) return kvm_error("cannot map the probe's guest memory");
  kvm_userspace_memory_region region{};
  region.memory_size = kGuestMemory;
  region.userspace_addr = reinterpret_cast<uint64_t>(memory.address);
  if (::ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    return kvm_error("KVM_SET_USER_MEMORY_REGION");
  }
  Fd vcpu(::ioctl(vm.fd, KVM_CREATE_VCPU, 0));
  if (vcpu.fd < 0) return kvm_error("KVM_CREATE_VCPU");
  int run_size = ::ioctl(kvm.fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0) return kvm_error("KVM_GET_VCPU_MMAP_SIZE");
  Mapping run_area(::mmap(nullptr, static_cast<size_t>(run_size), PROT_READ | PROT_WRITE,
                          MAP_SHARED, vcpu.fd, 0),
                   static_cast<size_t>(run_size));
  if (!run_area.ok()) return kvm_error("cannot map the vCPU's run area");
  auto* run = static_cast<kvm_run*>(run_area.address);
  SLIPWAY_RETURN_IF_ERROR(enter_long_mode(vcpu.fd, memory.bytes()));

  bool reported = false;
  for (int exits = 0; exits < 16; ++exits) {
    if (::ioctl(vcpu.fd, KVM_RUN, 0) < 0) {
      if (errno == EINTR) return false;
      return kvm_error("KVM_RUN");
    }
    if (run->exit_reason == KVM_EXIT_IO && run->io.port == kDonePort) {
      reported = reinterpret_cast<unsigned char*>(run)[run->io.data_offset] == kDoneValue;
      continue;
    }
    if (run->exit_reason == KVM_EXIT_HLT) break;
    return Error(Code::kFailedPrecondition,
                 "the probe's vCPU stopped for reason " + std::to_string(run->exit_reason));
  }
  if (!reported)
    return Error(Code::kFailedPrecondition, "the probe's vCPU did not finish its loop");
  return true;
}

bool cpu_has_virtualization() {
  auto cpuinfo = fs::read_file("/proc/cpuinfo", 16 << 20);
  if (!cpuinfo.ok()) return false;
  std::istringstream lines(*cpuinfo);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string flag; words >> flag;) {
      if (flag == "vmx" || flag == "svm") return true;
    }
    return false;  // every CPU has the same flags
  }
  return false;
}

bool kvm_pvm_loaded() {
  if (fs::exists("/sys/module/kvm_pvm")) return true;
  auto modules = fs::read_file("/proc/modules", 4 << 20);
  return modules.ok() &&
         (modules->rfind("kvm_pvm ", 0) == 0 || modules->find("\nkvm_pvm ") != std::string::npos);
}

}  // namespace

Result<bool> probe_kvm(std::chrono::milliseconds deadline, std::chrono::microseconds* took) {
  // The handler must exist before any kick: the default action of a
  // real-time signal ends the process.
  struct sigaction current {};
  if (::sigaction(kick_signal(), nullptr, &current) != 0) return kvm_error("sigaction");
  if (current.sa_handler != on_kick) {
    if (current.sa_handler != SIG_DFL) {
      return Error(Code::kFailedPrecondition,
                   "signal " + std::to_string(kick_signal()) + " is taken by something else");
    }
    struct sigaction kick {};
    kick.sa_handler = on_kick;
    sigemptyset(&kick.sa_mask);
    if (::sigaction(kick_signal(), &kick, nullptr) != 0) return kvm_error("sigaction");
  }

  Mutex mutex;
  std::condition_variable_any finished_cv;
  bool finished = false;
  Result<bool> outcome = false;
  const auto started = std::chrono::steady_clock::now();
  std::thread prober([&] {
    sigset_t kick_set;
    sigemptyset(&kick_set);
    sigaddset(&kick_set, kick_signal());
    pthread_sigmask(SIG_UNBLOCK, &kick_set, nullptr);
    Result<bool> result = run_probe_vcpu();
    MutexLock lock(mutex);
    outcome = std::move(result);
    finished = true;
    finished_cv.notify_all();
  });
  {
    MutexLock lock(mutex);
    auto done = [&] { return finished; };
    if (!mutex.wait_for(finished_cv, deadline, done)) {
      // A kick that lands between two runs only runs the empty handler:
      // kicks go on until one lands inside KVM_RUN.
      while (!finished) {
        ::pthread_kill(prober.native_handle(), kick_signal());
        mutex.wait_for(finished_cv, std::chrono::milliseconds(20), done);
      }
      outcome = false;
    }
  }
  prober.join();
  *took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                started);
  return outcome;
}

Result<AccelChoice> choose_accel(Accel setting) {
  if (setting == Accel::kTcg) return AccelChoice{false, "accel: tcg in the settings"};
  if (setting == Accel::kKvm) {
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      return Error(Code::kFailedPrecondition,
                   std::string("accel kvm needs /dev/kvm, which does not open (") +
                       std::strerror(errno) + "): set accel to auto or tcg");
    }
    ::close(fd);
    return AccelChoice{true, "accel: kvm in the settings"};
  }
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return AccelChoice{false, std::string("/dev/kvm: ") + std::strerror(errno)};
  ::close(fd);
  if (!cpu_has_virtualization()) return AccelChoice{false, "no vmx or svm flag in /proc/cpuinfo"};
  if (kvm_pvm_loaded()) return AccelChoice{false, "/dev/kvm is the paravirtual kvm_pvm"};
  std::chrono::microseconds took{0};
  auto fast = probe_kvm(kDeadline, &took);
  if (!fast.ok()) return AccelChoice{false, "the KVM probe failed: " + fast.error().message()};
  const std::string loop = std::to_string(kIterations) + " iterations";
  if (!*fast) {
    return AccelChoice{
        false, "KVM ran " + loop + " no faster than " + std::to_string(kDeadline.count()) + " ms"};
  }
  return AccelChoice{true, "KVM ran " + loop + " in " + std::to_string(took.count()) + " us"};
}

}  // namespace slipway::connectors::qemu
