// The controller's own cost of a runtime parameter set that wakes a waiting
// get: ParameterStore::set on a real SQLite store (WAL, file-backed),
// without sockets. Separates what the controller spends from what the
// network and the scheduler add (bench/coordination.sh measures the whole).
//
//   parameter_store_bench [COUNT]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/clock.h"
#include "controller/deployments/parameters.h"
#include "controller/store/store.h"

using namespace slipway;
using namespace slipway::controller;

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 20000;
  char dir[] = "/tmp/slipway-pbench-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return 1;
  std::string path = std::string(dir) + "/store.db";
  auto store = Store::open(path);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().message().c_str());
    return 1;
  }
  SystemClock clock;
  ParameterStore params(**store, clock);
  (void)(*store)->db().exec(
      "INSERT INTO deployments(id, module, owner_uid, owner_name, state, keep_running, "
      "timeout_ms, created_at, state_since, spec) "
      "VALUES('d','m',0,'r','Executing','always',0,0,0,x'90')");
  params.map("d", "producer.1:value", "consumer.1:input");
  std::vector<double> set_us, wake_us;
  for (int i = 0; i < count; ++i) {
    // A fresh key each time: a wait on a key already set is answered at
    // once, before the set it is meant to time.
    std::string key = "producer.1:k" + std::to_string(i);
    auto woke = std::chrono::steady_clock::time_point();
    params.wait("d", {key}, 0,
                [&](Result<ParameterStore::Values>) { woke = std::chrono::steady_clock::now(); });
    auto start = std::chrono::steady_clock::now();
    if (!params.set("d", key, std::to_string(i)).ok()) return 1;
    auto end = std::chrono::steady_clock::now();
    set_us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    wake_us.push_back(std::chrono::duration<double, std::micro>(woke - start).count());
  }
  auto report = [](const char* what, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    std::printf("%s: p50 %.0f us, p99 %.0f us, max %.0f us (%zu)\n", what, v[v.size() / 2],
                v[v.size() * 99 / 100], v.back(), v.size());
  };
  report("ParameterStore::set, persisted", set_us);
  report("set to the waiting get's callback", wake_us);
  store->reset();
  if (std::system((std::string("rm -rf ") + dir).c_str()) != 0) return 1;
  return 0;
}
