// A Harness for end-to-end deployments: the real controller with a `local`
// cloud on a bridge and subnet of its own (so tests never meet a running
// slipwayd or each other), a `process` cloud, on request a `qemu` cloud on
// another bridge and subnet of its own, short heartbeats, and helpers to push
// modules, deploy and read what the machines did.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "support/harness.h"

namespace slipway::test {

// Whether the controller also gets a `qemu` cloud (virtual machines booting
// the images built under images/).
enum class QemuCloud { kNo, kYes };

class DeployHarness : public Harness {
 public:
  explicit DeployHarness(const std::string& extra_config = "", QemuCloud qemu = QemuCloud::kNo);
  // Stops the controller, then removes the test's bridges and NAT tables,
  // and any qemu machine a failed test left running.
  ~DeployHarness();

  // Writes `yaml` to a file and pushes it; fails the test on error.
  void push(const std::string& yaml);
  // Pushes a directory of the source tree (examples/hello).
  void push_source(const std::string& relative_dir);
  // `slipway deploy ARGS`; returns the id (fails the test when there is none).
  std::string deploy(const std::vector<std::string>& args, Output* output = nullptr);
  // The value of a parameter, "" when unset.
  std::string param(const std::string& id, const std::string& key);
  Value show(const std::string& id);
  // Terminates and waits for the final state; returns it.
  std::string terminate_and_wait(const std::string& id);

  // What a deployment may leave on this host: network namespaces, veths,
  // taps, mounts and processes (qemu included) of its machines. Empty when clean.
  std::vector<std::string> leftovers();
  // leftovers(), joined for a test message.
  std::string leftovers_text();

  const std::string& bridge() const { return bridge_; }
  const std::string& subnet_prefix() const { return subnet_prefix_; }
  // The qemu cloud's ("" without one).
  const std::string& qemu_bridge() const { return qemu_bridge_; }
  const std::string& qemu_subnet_prefix() const { return qemu_subnet_prefix_; }

 private:
  // Processes whose working directory or command line is in the test's
  // data directory: launchers, agents of process machines, qemu.
  std::vector<std::string> processes_of_test();

  std::string bridge_;
  std::string subnet_prefix_;  // "10.215.37."
  std::string qemu_bridge_;
  std::string qemu_subnet_prefix_;  // "10.251.12."
  int files_ = 0;
};

// True when this process may create namespaces and bridges (root).
bool can_run_machines();

// Ends a test that needs machines on the local cloud when not root (CI runs
// as root; a developer's plain `ctest` still passes the rest).
// Virtual machines boot the busybox image, which sanitizer builds lack.
#define SKIP_WITHOUT_BUSYBOX_IMAGE()                                              \
  do {                                                                            \
    if (!SLIPWAY_HAS_BUSYBOX_IMAGE) {                                             \
      WARN("skipped: this build has no busybox image (its agent is not static)"); \
      return;                                                                     \
    }                                                                             \
  } while (false)

#define SKIP_WITHOUT_ROOT()                        \
  do {                                             \
    if (!::slipway::test::can_run_machines()) {    \
      WARN("skipped: the local cloud needs root"); \
      return;                                      \
    }                                              \
  } while (false)

// The source tree (for examples/).
std::string source_dir();

}  // namespace slipway::test
