// Launch and terminate times of local machines: one alone, then a batch of
// twenty, on a bridge and subnet of the benchmark's own (torn down at the
// end). Needs root.
//
//   build/bench/local_launch [ROUNDS]     (ROUNDS of the single launch, default 5)
//
// Machines run on the host's root with the build tree's agent, so the
// figures are the connector's own cost: overlay, namespaces, veth, launcher.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "common/fs.h"
#include "common/log.h"
#include "connectors/common/bridge_network.h"
#include "connectors/connector.h"
#include "connectors/local/settings.h"

using namespace slipway;
using namespace slipway::connectors;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

MachineSpec spec(const Connector& connector, const std::string& name) {
  MachineSpec s;
  s.machine_id = "bench-" + crypto::random_id(6) + "-" + name;
  s.hostname = name;
  s.instance = name;
  s.context = Contextualization{"tcp://" + connector.controller_address() + ":7740",
                                std::string(40, 'S'),
                                std::string(40, 'P'),
                                std::string(40, 'K'),
                                "bench",
                                name};
  s.reference = Value(Value::Object{{"rootfs", "host"}});
  s.platform = "debian";
  return s;
}

std::string real_agent() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  self[n] = '\0';
  std::string path = fs::dirname(fs::dirname(self)) + "/agent/slipway-agent";
  return ::access(path.c_str(), X_OK) == 0 ? path : "";
}

int fail(const std::string& what) {
  std::fprintf(stderr, "local_launch: %s\n", what.c_str());
  return 1;
}

int run(int rounds) {
  if (::geteuid() != 0) return fail("needs root");
  const char* tmp = std::getenv("TMPDIR");
  std::string data = std::string(tmp != nullptr ? tmp : "/tmp") + "/slipway-bench-XXXXXX";
  if (::mkdtemp(data.data()) == nullptr) return fail("cannot create " + data);
  // The real static agent from the build tree when there is one (its copy
  // into each machine is part of the cost), a shell loop otherwise. With no
  // controller listening it just retries.
  std::string agent = real_agent();
  if (agent.empty()) {
    agent = data + "/agent.sh";
    (void)fs::write_file_atomic(agent, "#!/bin/sh\nwhile :; do sleep 3600; done\n", 0755);
  }

  Value settings =
      Value::object()
          .set("bridge", "slwb" + crypto::random_id(6))
          .set("subnet", "10.215." + std::to_string(1 + crypto::random_below(254)) + ".0/24");
  ConnectorRegistry registry;
  register_builtin_connectors(registry);
  auto made = registry.make(CloudConfig{"bench", "local", settings},
                            ConnectorEnvironment{data + "/clouds/bench", agent, "", 7740});
  if (!made.ok()) return fail(made.error().message());
  Connector& c = **made;

  int status = 0;
  auto start = Clock::now();
  Status prepared = c.prepare();
  double prepare_ms = ms_since(start);
  if (!prepared.ok()) {
    status = fail(prepared.error().message());
  } else {
    std::vector<double> launch_one, terminate_one;
    for (int i = 0; i < rounds && status == 0; ++i) {
      MachineSpec s = spec(c, "single");
      start = Clock::now();
      auto launched = c.launch({s}, nullptr);
      launch_one.push_back(ms_since(start));
      if (!launched[0].ok()) {
        status = fail(launched[0].error().message());
        break;
      }
      start = Clock::now();
      if (!first_failure(c.terminate({s.machine_id})).ok()) status = fail("terminate failed");
      terminate_one.push_back(ms_since(start));
    }
    double launch_20 = 0, terminate_20 = 0;
    if (status == 0) {
      std::vector<MachineSpec> batch;
      std::vector<std::string> ids;
      for (int i = 1; i <= 20; ++i) {
        batch.push_back(spec(c, "n" + std::to_string(i)));
        ids.push_back(batch.back().machine_id);
      }
      start = Clock::now();
      auto launched = c.launch(batch, nullptr);
      launch_20 = ms_since(start);
      for (auto& r : launched) {
        if (!r.ok()) status = fail(r.error().message());
      }
      start = Clock::now();
      if (!first_failure(c.terminate(ids)).ok()) status = fail("terminate of the batch failed");
      terminate_20 = ms_since(start);
    }
    std::printf("local connector, %u cores, agent %s\n",
                std::max(1u, std::thread::hardware_concurrency()), agent.c_str());
    std::printf("  prepare (bridge, nft)          %8.1f ms\n", prepare_ms);
    std::printf("  launch 1 machine   (median/%d) %8.1f ms\n", rounds, median(launch_one));
    std::printf("  terminate 1        (median/%d) %8.1f ms\n", rounds, median(terminate_one));
    std::printf("  launch 20 in one batch         %8.1f ms\n", launch_20);
    std::printf("  terminate 20 in one batch      %8.1f ms\n", terminate_20);
  }
  (void)c.reap({});
  auto parsed = local::parse_local_settings("bench", settings);
  auto tools = NetworkTools::find(true, "local");
  if (parsed.ok() && tools.ok()) (void)remove_bridge_network(*parsed, *tools);
  (void)fs::remove_tree(data);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::Level::kWarn);
  // Piped into head, it must still get to its cleanup.
  std::signal(SIGPIPE, SIG_IGN);
  return run(argc > 1 ? std::max(1, std::atoi(argv[1])) : 5);
}
