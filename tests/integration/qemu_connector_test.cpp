// The qemu connector on this very host: real qemu, the real busybox image
// (build/images/busybox), taps, a bridge and nftables. Needs root (CI runs
// as root); without it each case warns and returns.
//
// Every case makes its own cloud: a bridge "slwq<random>" on a random /24 in
// 10.251.0.0/16, and a data directory of its own, so cases never collide with
// each other or with a running slipwayd; each removes its machines, bridge
// and nft table at the end. Traffic only goes to addresses on the case's own
// bridge. Machines boot under TCG here (a few seconds each), so the cases
// share boots: two machines prove what a machine needs, one more what reap
// and disks need.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <set>

#include "common/context.h"
#include "common/crypto.h"
#include "common/fs.h"
#include "connectors/common/bridge_network.h"
#include "connectors/common/command.h"
#include "connectors/connector.h"
#include "connectors/qemu/kvm_probe.h"
#include "connectors/qemu/settings.h"
#include "connectors/qemu/vm_dir.h"
#include "support/harness.h"
#include "support/icmp.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace slipway;
using namespace slipway::connectors;
using namespace slipway::test;

namespace {

#define REQUIRE_ROOT_AND_IMAGE()                                     \
  do {                                                               \
    if (::geteuid() != 0) {                                          \
      WARN("the qemu connector needs root: this case is skipped");   \
      return;                                                        \
    }                                                                \
    if (!SLIPWAY_HAS_BUSYBOX_IMAGE) {                                \
      WARN("this build has no busybox image: this case is skipped"); \
      return;                                                        \
    }                                                                \
  } while (false)

constexpr int kBootTimeoutMs = 90000;  // TCG on a busy 2-core host

std::string images_dir() {
  return SLIPWAY_IMAGES_DIR;
}

bool interface_exists(const std::string& name) {
  return ::if_nametoindex(name.c_str()) != 0;
}

bool process_alive(pid_t pid) {
  auto stat = fs::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat.ok()) return false;
  size_t close = stat->rfind(')');
  return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

Contextualization context_for(const std::string& endpoint, const std::string& instance) {
  auto server = crypto::generate_keypair();
  auto own = crypto::generate_keypair();
  REQUIRE(server.ok());
  REQUIRE(own.ok());
  return Contextualization{endpoint, server->public_key, own->public_key, own->secret_key, "test",
                           instance};
}

// A TCP listener on the bridge's address, standing in for the controller:
// an agent that connects proves it booted and reached the host.
class Listener {
 public:
  explicit Listener(const std::string& address) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) == 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t size = sizeof sa;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &size) == 0);
    port_ = ntohs(sa.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }
  // True once a connection arrives within `timeout_ms`.
  bool accepted(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return false;
    int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client >= 0) ::close(client);
    return client >= 0;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// One qemu cloud for one test case, torn down with it.
class TestVmCloud {
 public:
  explicit TestVmCloud(Value extra_settings = Value::object()) {
    state_dir_ = data_.path() + "/clouds/test";
    REQUIRE(fs::make_dirs(state_dir_, 0700).ok());
    register_builtin_connectors(registry_);
    bridge_ = "slwq" + crypto::random_id(6);
    for (int attempt = 0; attempt < 5; ++attempt) {
      prefix_ = "10.251." + std::to_string(1 + crypto::random_below(254)) + ".";
      settings_ = extra_settings;
      settings_.set("bridge", bridge_).set("subnet", prefix_ + "0/24");
      connector_ = make();
      Status prepared = connector_->prepare();
      if (prepared.ok()) return;
      INFO(prepared.error().message());
      REQUIRE(prepared.error().message().find("already used") != std::string::npos);
    }
    FAIL("no free subnet in 10.251.0.0/16");
  }

  ~TestVmCloud() {
    if (connector_) CHECK(connector_->reap({}).ok());
    auto settings = qemu::parse_qemu_settings("test", settings_);
    auto tools = NetworkTools::find(true, "qemu");
    if (settings.ok() && tools.ok()) CHECK(remove_bridge_network(*settings, *tools).ok());
    for (const auto& tap : taps_) CHECK_FALSE(interface_exists(tap));
  }

  // Another connector on the same cloud: what a restarted slipwayd makes.
  std::unique_ptr<Connector> make() {
    ConnectorEnvironment env{state_dir_, agent_path(), images_dir(), 7740};
    auto made = registry_.make(CloudConfig{"test", "qemu", settings_}, env);
    REQUIRE(made.ok());
    return std::move(made).value();
  }

  Connector& connector() { return *connector_; }

  MachineSpec spec(const std::string& name, const std::string& endpoint,
                   Value reference = Value()) {
    MachineSpec s;
    s.machine_id = "t" + crypto::random_id(6) + "-" + name;
    s.deployment = "test";
    s.instance = name;
    s.hostname = name;
    s.context = context_for(endpoint, name);
    s.reference = reference.is_null() ? Value::object()
                                            .set("kernel", "busybox/vmlinuz")
                                            .set("initrd", "busybox/initramfs.cpio")
                                      : reference;
    s.platform = "busybox";
    s.resources.memory_mb = 128;
    taps_.insert(qemu::tap_name(bridge_, s.machine_id));
    return s;
  }

  Result<Machine> launch_one(const MachineSpec& s) {
    auto results = connector_->launch({s}, nullptr);
    REQUIRE(results.size() == 1);
    return results[0];
  }

  qemu::VmDir dir(const std::string& id) const { return qemu::VmDir(state_dir_, id); }
  qemu::VmRecord record(const std::string& id) const {
    auto r = dir(id).read_record();
    REQUIRE(r.ok());
    return *r;
  }

  // Waits until the machine's console holds `text`.
  bool console_shows(const std::string& id, const std::string& text, int timeout_ms) {
    return eventually(
        [&] {
          auto log = connector_->console_log(id);
          return log.ok() && log->find(text) != std::string::npos;
        },
        timeout_ms);
  }
  std::string console(const std::string& id) {
    auto log = connector_->console_log(id);
    return log.ok() ? *log : log.error().message();
  }

  // Nothing of the machine is left: no qemu, no tap, no directory.
  void check_gone(const std::string& id, pid_t pid) {
    CHECK_FALSE(process_alive(pid));
    CHECK_FALSE(interface_exists(qemu::tap_name(bridge_, id)));
    CHECK_FALSE(fs::exists(dir(id).path()));
  }

  std::string controller_address() const { return prefix_ + "1"; }
  const std::string& prefix() const { return prefix_; }
  const std::string& bridge() const { return bridge_; }
  const std::string& data_dir() const { return data_.path(); }

 private:
  TempDir data_;
  std::string state_dir_, bridge_, prefix_;
  Value settings_;
  ConnectorRegistry registry_;
  std::unique_ptr<Connector> connector_;
  std::set<std::string> taps_;
};

}  // namespace

TEST_CASE("the qemu connector is registered as type qemu and says what it can do",
          "[integration][qemu]") {
  ConnectorRegistry registry;
  register_builtin_connectors(registry);
  auto types = registry.types();
  CHECK(std::find(types.begin(), types.end(), "qemu") != types.end());
  ConnectorEnvironment env{"/nonexistent/clouds/vms", "/nonexistent/agent", "", 7740};
  auto made = registry.make(CloudConfig{"vms", "qemu", Value::object()}, env);
  REQUIRE(made.ok());
  CHECK(made.value()->controller_address() == "10.214.0.1");
  CHECK(made.value()->capabilities().console_log);
  CHECK(made.value()->capabilities().snapshot);
  auto bad = registry.make(CloudConfig{"vms", "qemu", Value::object().set("accel", "fast")}, env);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "cloud vms: accel must be auto, kvm or tcg, not \"fast\"");
  // Unprepared, it launches nothing.
  auto results = made.value()->launch({MachineSpec{}}, nullptr);
  REQUIRE(results.size() == 1);
  CHECK(results[0].error().message() == "cloud vms is not prepared");
}

TEST_CASE("the qemu cloud refuses to prepare without root, in one sentence",
          "[integration][qemu]") {
  ConnectorRegistry registry;
  register_builtin_connectors(registry);
  ConnectorEnvironment env{"/nonexistent/clouds/vms", "/nonexistent/agent", "", 7740};
  auto made = registry.make(CloudConfig{"vms", "qemu", Value::object()}, env);
  REQUIRE(made.ok());
  const std::string expected =
      "the qemu cloud needs root (taps, a bridge, NAT): run slipwayd as root";
  if (::geteuid() != 0) {
    CHECK(made.value()->prepare().error().message() == expected);
    return;
  }
  // As root: ask a child that gave up root.
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string message = "no error";
    if (::setresuid(65534, 65534, 65534) == 0) {
      Status s = made.value()->prepare();
      if (!s.ok()) message = s.error().message();
    }
    ssize_t ignored = ::write(pipe_fds[1], message.data(), message.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buf[256];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;)
    message.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  ::waitpid(pid, nullptr, 0);
  CHECK(message == expected);
}

TEST_CASE("the KVM probe decides within its deadline, and a setting overrides it",
          "[integration][qemu]") {
  auto tcg = qemu::choose_accel(qemu::Accel::kTcg);
  REQUIRE(tcg.ok());
  CHECK_FALSE(tcg->kvm);
  CHECK(tcg->reason == "accel: tcg in the settings");

  const auto started = std::chrono::steady_clock::now();
  auto automatic = qemu::choose_accel(qemu::Accel::kAuto);
  REQUIRE(automatic.ok());
  INFO(automatic->reason);
  CHECK_FALSE(automatic->reason.empty());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));

  // The probe itself, wherever /dev/kvm opens: a vCPU too slow for the
  // deadline is cut off by the kick, not waited for.
  if (::access("/dev/kvm", R_OK | W_OK) != 0) {
    WARN("no usable /dev/kvm: the probe itself is not run");
    return;
  }
  std::chrono::microseconds took{0};
  auto fast = qemu::probe_kvm(std::chrono::milliseconds(100), &took);
  INFO((fast.ok() ? "" : fast.error().message()));
  CHECK(fast.ok());  // a vCPU that runs, fast or slow
  if (fast.ok() && *fast) {
    CHECK(took < std::chrono::milliseconds(100));
  } else {
    CHECK(took < std::chrono::milliseconds(1500));
  }
}

TEST_CASE("qemu machines boot the busybox image, reach the host and each other, and leave nothing",
          "[integration][qemu]") {
  REQUIRE_ROOT_AND_IMAGE();
  TestVmCloud cloud;
  Listener controller(cloud.controller_address());
  MachineSpec a_spec = cloud.spec(
      "a", "tcp://" + cloud.controller_address() + ":" + std::to_string(controller.port()));
  auto launched = cloud.launch_one(a_spec);
  INFO((launched.ok() ? "" : launched.error().message()));
  REQUIRE(launched.ok());
  const Machine a = *launched;
  CHECK(a.machine_id == a_spec.machine_id);
  CHECK(a.vmstate == "running");
  CHECK(a.address.rfind(cloud.prefix(), 0) == 0);
  const pid_t a_pid = cloud.record(a.machine_id).pid;

  // The secret key travels on the seed only, never on qemu's command line.
  auto cmdline = fs::read_file("/proc/" + std::to_string(a_pid) + "/cmdline", 1 << 20);
  REQUIRE(cmdline.ok());
  CHECK(cmdline->find(a_spec.context.secret_key) == std::string::npos);
  CHECK(cmdline->find("slipway.ip=" + a.address + "/24") != std::string::npos);

  // Its agent found the seed and connected to "the controller" on the bridge.
  INFO("console of a:\n" << cloud.console(a.machine_id));
  REQUIRE(controller.accepted(kBootTimeoutMs));
  CHECK(icmp_echo(a.address, 3000));
  std::string console = cloud.console(a.machine_id);
  CHECK(console.find("slipway-init: eth0 " + a.address + "/24 gateway " +
                     cloud.controller_address()) != std::string::npos);
  CHECK(console.find("slipway-init: seed /dev/vda mounted on /run/slipway/seed") !=
        std::string::npos);
  CHECK(console.find("slipway-agent 0.1.0 for test/a, controller " + a_spec.context.endpoint) !=
        std::string::npos);

  auto described = cloud.connector().describe({a.machine_id, "no-such-machine"}).value();
  REQUIRE(described.size() == 2);
  CHECK(described[0].vmstate == "running");
  CHECK(described[0].address == a.address);
  CHECK(described[1].vmstate == "gone");
  CHECK(cloud.connector().console_log("no-such-machine").error().code() == Code::kNotFound);

  // A second machine whose "controller" is the first one, on a port nothing
  // listens on: "connection refused" is the first machine's kernel answering.
  MachineSpec b_spec = cloud.spec("b", "tcp://" + a.address + ":1");
  auto b = cloud.launch_one(b_spec);
  INFO((b.ok() ? "" : b.error().message()));
  REQUIRE(b.ok());
  CHECK(b->address != a.address);
  INFO("console of b:\n" << cloud.console(b->machine_id));
  CHECK(cloud.console_shows(
      b->machine_id, "controller at tcp://" + a.address + ":1 not reachable (connection refused)",
      kBootTimeoutMs));
  CHECK(icmp_echo(b->address, 3000));
  const pid_t b_pid = cloud.record(b->machine_id).pid;

  const auto stopping = std::chrono::steady_clock::now();
  CHECK(first_failure(cloud.connector().terminate({a.machine_id, b->machine_id, "never-existed"}))
            .ok());
  CHECK(std::chrono::steady_clock::now() - stopping < std::chrono::seconds(5));
  cloud.check_gone(a.machine_id, a_pid);
  cloud.check_gone(b->machine_id, b_pid);
  CHECK(cloud.connector().describe({a.machine_id}).value()[0].vmstate == "gone");
  // Idempotent.
  CHECK(first_failure(cloud.connector().terminate({a.machine_id, b->machine_id})).ok());
}

TEST_CASE("a qemu machine gets its own disk over the image's, and reap removes what a crash left",
          "[integration][qemu]") {
  REQUIRE_ROOT_AND_IMAGE();
  TestVmCloud cloud;
  TempDir scratch;
  const std::string disk = scratch.path() + "/disk.img";
  REQUIRE(fs::write_file_atomic(disk, std::string(1 << 20, '\0'), 0644).ok());
  Value reference = Value::object()
                        .set("kernel", images_dir() + "/busybox/vmlinuz")
                        .set("initrd", "busybox/initramfs.cpio")
                        .set("disk", disk);
  MachineSpec spec = cloud.spec("disk", "tcp://" + cloud.controller_address() + ":1", reference);
  auto launched = cloud.launch_one(spec);
  INFO((launched.ok() ? "" : launched.error().message()));
  REQUIRE(launched.ok());
  const std::string id = launched->machine_id;
  const pid_t pid = cloud.record(id).pid;

  // The overlay is the machine's /dev/vda; the seed comes after it.
  auto overlay = fs::read_file(cloud.dir(id).file(qemu::kDiskOverlay), 1 << 20);
  REQUIRE(overlay.ok());
  CHECK(overlay->compare(0, 4, "QFI\xfb") == 0);
  CHECK(overlay->find(disk) != std::string::npos);  // its backing file
  INFO("console:\n" << cloud.console(id));
  CHECK(cloud.console_shows(id, "slipway-init: seed /dev/vdb mounted", kBootTimeoutMs));

  // A tap of a machine whose directory is gone, still on the bridge.
  const std::string ghost = qemu::tap_name(cloud.bridge(), "ghost");
  REQUIRE(run_checked({*find_program("ip"), "-batch", "-"},
                      "tuntap add " + ghost + " mode tap\nlink set " + ghost + " master " +
                          cloud.bridge() + "\n",
                      std::chrono::seconds(10), "tap")
              .ok());

  // A restarted controller keeps nothing: reap takes the machine and the tap.
  auto restarted = cloud.make();
  REQUIRE(restarted->prepare().ok());
  auto described = restarted->describe({id}).value();
  CHECK(described[0].vmstate == "running");
  auto reaped = restarted->reap({});
  REQUIRE(reaped.ok());
  CHECK(*reaped == std::vector<std::string>{id});
  cloud.check_gone(id, pid);
  CHECK_FALSE(interface_exists(ghost));
  CHECK(fs::exists(disk));  // the image's own disk is never touched
}

TEST_CASE("a missing kernel or a qemu that will not start is one sentence and leaves nothing",
          "[integration][qemu]") {
  REQUIRE_ROOT_AND_IMAGE();
  TempDir scratch;
  TestVmCloud cloud;
  // None of these machines boots: their "controller" is never called.
  const std::string unused = "tcp://" + cloud.controller_address() + ":1";
  auto no_trace = [&](const MachineSpec& spec) {
    CHECK_FALSE(fs::exists(cloud.dir(spec.machine_id).path()));
    CHECK_FALSE(interface_exists(qemu::tap_name(cloud.bridge(), spec.machine_id)));
  };

  MachineSpec missing =
      cloud.spec("missing", unused, Value::object().set("kernel", "busybox/no-such-kernel"));
  auto result = cloud.launch_one(missing);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message() == "cannot launch machine " + missing.machine_id +
                                        ": the image's kernel " + images_dir() +
                                        "/busybox/no-such-kernel does not exist (is the image "
                                        "built? see images/README.md)");
  no_trace(missing);

  MachineSpec small = cloud.spec("small", unused);
  small.resources.memory_mb = 32;
  result = cloud.launch_one(small);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message() ==
        "cannot launch machine " + small.machine_id +
            ": its image asks for 32 MiB of memory, and a qemu machine needs at least 80");
  no_trace(small);

  // A kernel qemu cannot load: qemu itself says why, and is gone.
  const std::string garbage = scratch.path() + "/not-a-kernel";
  REQUIRE(fs::write_file_atomic(garbage, std::string(4096, 'x'), 0644).ok());
  MachineSpec broken =
      cloud.spec("broken", unused,
                 Value::object().set("kernel", garbage).set("initrd", "busybox/initramfs.cpio"));
  result = cloud.launch_one(broken);
  REQUIRE_FALSE(result.ok());
  INFO(result.error().message());
  CHECK(result.error().message().rfind(
            "cannot launch machine " + broken.machine_id + ": qemu exited before the machine ran",
            0) == 0);
  CHECK(result.error().message().find("qemu") != std::string::npos);
  CHECK(result.error().message().find('\n') == std::string::npos);
  no_trace(broken);

  // A "qemu" that exits at once with nothing to say.
  TestVmCloud false_cloud(Value::object().set("qemu", "/bin/false"));
  MachineSpec silent = false_cloud.spec("silent", unused);
  result = false_cloud.launch_one(silent);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message() ==
        "cannot launch machine " + silent.machine_id +
            ": qemu exited before the machine ran (status 1): it said nothing");
  CHECK_FALSE(fs::exists(false_cloud.dir(silent.machine_id).path()));
}
