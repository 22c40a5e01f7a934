// Boot times of qemu machines of the busybox reference image: from launch()
// to the agent's first connection to "the controller" (a TCP listener on the
// bridge's address, which is where the agent's ZeroMQ connect lands), one
// machine alone, then four in one batch and four one after another. On a
// bridge and subnet of the benchmark's own, torn down at the end. Needs root
// and the build tree's images (build/images/busybox).
//
//   build/bench/qemu_boot [ROUNDS] [ACCEL]   (ROUNDS of the single boot, default 3;
//                                             ACCEL auto, tcg or kvm, default auto)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "common/fs.h"
#include "common/log.h"
#include "connectors/common/bridge_network.h"
#include "connectors/connector.h"
#include "connectors/qemu/settings.h"

using namespace slipway;
using namespace slipway::connectors;

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int fail(const std::string& what) {
  std::fprintf(stderr, "qemu_boot: %s\n", what.c_str());
  return 1;
}

std::string build_dir() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  self[n] = '\0';
  return fs::dirname(fs::dirname(self));
}

// Where agents connect: records when each machine's address first does.
class Listener {
 public:
  bool open(const std::string& address) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    if (fd_ < 0 || ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd_, 64) != 0) {
      return false;
    }
    socklen_t size = sizeof sa;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &size) != 0) return false;
    port_ = ntohs(sa.sin_port);
    return true;
  }
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

  // Accepts until every address in `wanted` has connected, or `deadline`.
  // Returns when each first connected.
  std::map<std::string, Clock::time_point> wait_for(const std::set<std::string>& wanted,
                                                    Clock::time_point deadline) {
    while (Clock::now() < deadline) {
      bool all = true;
      for (const auto& a : wanted) all = all && seen_.count(a) != 0;
      if (all) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      sockaddr_in peer{};
      socklen_t size = sizeof peer;
      int client = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &size, SOCK_CLOEXEC);
      if (client < 0) continue;
      auto now = Clock::now();
      ::close(client);
      char text[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
      seen_.emplace(text, now);
    }
    std::map<std::string, Clock::time_point> out;
    for (const auto& a : wanted) {
      if (seen_.count(a)) out[a] = seen_[a];
    }
    return out;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::map<std::string, Clock::time_point> seen_;
};

struct Bench {
  Connector& connector;
  Listener& listener;
  std::vector<std::string> ids;

  MachineSpec spec(const std::string& name) {
    MachineSpec s;
    s.machine_id = "bench-" + crypto::random_id(6) + "-" + name;
    s.hostname = name;
    s.instance = name;
    s.deployment = "bench";
    auto server = crypto::generate_keypair();
    auto own = crypto::generate_keypair();
    s.context = Contextualization{
        "tcp://" + connector.controller_address() + ":" + std::to_string(listener.port()),
        server.ok() ? server->public_key : "",
        own.ok() ? own->public_key : "",
        own.ok() ? own->secret_key : "",
        "bench",
        name};
    s.reference =
        Value::object().set("kernel", "busybox/vmlinuz").set("initrd", "busybox/initramfs.cpio");
    s.platform = "busybox";
    s.resources.memory_mb = 128;
    ids.push_back(s.machine_id);
    return s;
  }

  // Launches the batch; returns the time from the call to the slowest
  // agent's connection, and sets `launched_ms` to launch()'s own time.
  Result<double> boot(const std::vector<MachineSpec>& batch, double* launched_ms) {
    const auto start = Clock::now();
    auto results = connector.launch(batch, nullptr);
    *launched_ms = ms_between(start, Clock::now());
    std::set<std::string> addresses;
    for (auto& r : results) {
      if (!r.ok()) return r.error();
      addresses.insert(r->address);
    }
    auto connected = listener.wait_for(addresses, start + std::chrono::seconds(120));
    if (connected.size() != addresses.size()) {
      return Error(Code::kTimeout, "an agent did not connect within 120 s");
    }
    double slowest = 0;
    for (const auto& [address, when] : connected) {
      slowest = std::max(slowest, ms_between(start, when));
    }
    return slowest;
  }
};

int run(int rounds, const std::string& accel) {
  if (::geteuid() != 0) return fail("needs root");
  const std::string images = build_dir() + "/images";
  if (!fs::exists(images + "/busybox/initramfs.cpio")) {
    return fail("no busybox image in " + images + ": build the image-busybox target");
  }
  std::string data = "/tmp/slipway-bench-XXXXXX";
  if (::mkdtemp(data.data()) == nullptr) return fail("cannot create " + data);
  const std::string prefix = "10.252." + std::to_string(1 + crypto::random_below(254)) + ".";
  Value settings = Value::object()
                       .set("bridge", "slwb" + crypto::random_id(6))
                       .set("subnet", prefix + "0/24")
                       .set("accel", accel);
  ConnectorRegistry registry;
  register_builtin_connectors(registry);
  auto made = registry.make(CloudConfig{"bench", "qemu", settings},
                            ConnectorEnvironment{data + "/clouds/bench", "", images, 7740});
  if (!made.ok()) return fail(made.error().message());
  Connector& c = **made;

  int status = 0;
  auto start = Clock::now();
  Status prepared = c.prepare();
  const double prepare_ms = ms_between(start, Clock::now());
  Listener listener;
  if (!prepared.ok()) {
    status = fail(prepared.error().message());
  } else if (!listener.open(prefix + "1")) {
    status = fail("cannot listen on " + prefix + "1");
  } else {
    Bench bench{c, listener, {}};
    std::vector<double> launched, connected, terminated;
    for (int i = 0; i < rounds && status == 0; ++i) {
      double launch_ms = 0;
      auto booted = bench.boot({bench.spec("single")}, &launch_ms);
      if (!booted.ok()) {
        status = fail(booted.error().message());
        break;
      }
      launched.push_back(launch_ms);
      connected.push_back(*booted);
      start = Clock::now();
      if (!first_failure(c.terminate({bench.ids.back()})).ok()) status = fail("terminate failed");
      terminated.push_back(ms_between(start, Clock::now()));
    }
    double parallel_ms = 0, parallel_launch_ms = 0, serial_ms = 0;
    if (status == 0) {
      std::vector<MachineSpec> batch;
      for (int i = 1; i <= 4; ++i) batch.push_back(bench.spec("p" + std::to_string(i)));
      auto booted = bench.boot(batch, &parallel_launch_ms);
      if (!booted.ok()) status = fail(booted.error().message());
      parallel_ms = booted.ok() ? *booted : 0;
      (void)c.terminate(bench.ids);
    }
    if (status == 0) {
      start = Clock::now();
      for (int i = 1; i <= 4 && status == 0; ++i) {
        double ignored = 0;
        auto booted = bench.boot({bench.spec("s" + std::to_string(i))}, &ignored);
        if (!booted.ok()) status = fail(booted.error().message());
      }
      serial_ms = ms_between(start, Clock::now());
      (void)c.terminate(bench.ids);
    }
    std::printf("qemu connector, busybox image, %u cores, %s\n",
                std::max(1u, std::thread::hardware_concurrency()), accel.c_str());
    std::printf("  prepare (bridge, nft, accel)         %8.1f ms\n", prepare_ms);
    std::printf("  launch() returns, 1 machine (median/%d) %8.1f ms\n", rounds, median(launched));
    std::printf("  launch to agent connected (median/%d)   %8.1f ms  [target <= 5000 ms]\n", rounds,
                median(connected));
    if (!connected.empty()) {
      std::printf("    min %.1f ms, max %.1f ms\n",
                  *std::min_element(connected.begin(), connected.end()),
                  *std::max_element(connected.begin(), connected.end()));
    }
    std::printf("  terminate 1 (median/%d)                 %8.1f ms\n", rounds, median(terminated));
    std::printf("  4 in one batch: launch() returns        %8.1f ms\n", parallel_launch_ms);
    std::printf("  4 in one batch: all agents connected    %8.1f ms\n", parallel_ms);
    std::printf("  4 one after another: all connected      %8.1f ms\n", serial_ms);
  }
  (void)c.reap({});
  auto parsed = qemu::parse_qemu_settings("bench", settings);
  auto tools = NetworkTools::find(true, "qemu");
  if (parsed.ok() && tools.ok()) (void)remove_bridge_network(*parsed, *tools);
  (void)fs::remove_tree(data);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::Level::kWarn);
  std::signal(SIGPIPE, SIG_IGN);
  return run(argc > 1 ? std::max(1, std::atoi(argv[1])) : 3, argc > 2 ? argv[2] : "auto");
}
