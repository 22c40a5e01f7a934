// The machine's floor for a woken get: the same number of thread hand-offs
// as the real chain, with no work at all in between.
//
//   handoff_floor [HOPS [GAP_US [ROUNDS]]]     defaults: 4 hops, 3000 us, 2000
//
// A woken get crosses four hand-offs: the setting client to its agent, to
// the controller, to the other machine's agent, to the client blocked there.
// With libzmq at both ends it crossed eight (each end's I/O thread, in and
// out). Here HOPS processes pass one byte around a ring of
// pipes after GAP_US of idleness, as bench/coordination.sh's producer does
// between sets, so every round starts with cold, possibly halted CPUs. What
// it prints is the least any design with that many hand-offs can do on this
// machine; docs/PERFORMANCE.md compares it with the real chain.
//
// It also prints the CPU time the hypervisor took from this guest during the
// run (steal, from /proc/stat): a high figure there explains a high tail.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Pipe {
  int read = -1, write = -1;
};

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// Passes each byte on until its input closes.
[[noreturn]] void relay(const Pipe& in, const Pipe& out) {
  char byte;
  while (::read(in.read, &byte, 1) == 1) {
    if (::write(out.write, &byte, 1) != 1) break;
  }
  std::_Exit(0);
}

// Steal time of all CPUs so far, in ms: the eighth number of /proc/stat's
// "cpu" line, in clock ticks. -1 when it cannot be read.
double steal_ms() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  long long field[8] = {};
  if (!(stat >> cpu) || cpu != "cpu") return -1;
  for (auto& f : field) {
    if (!(stat >> f)) return -1;
  }
  return static_cast<double>(field[7]) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double percentile(const std::vector<double>& sorted, double p) {
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  const int hops = argc > 1 ? std::atoi(argv[1]) : 4;
  const int gap_us = argc > 2 ? std::atoi(argv[2]) : 3000;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 2000;
  if (hops < 1 || hops > 64 || gap_us < 0 || rounds < 1) {
    std::fprintf(stderr, "usage: handoff_floor [HOPS 1..64 [GAP_US [ROUNDS]]]\n");
    return 2;
  }
  // hops hand-offs: this process and hops-1 relays, in a ring of hops pipes.
  std::vector<Pipe> pipes(static_cast<size_t>(hops));
  for (auto& p : pipes) {
    int fds[2];
    if (::pipe(fds) != 0) die("pipe");
    p = {fds[0], fds[1]};
  }
  std::vector<pid_t> relays;
  for (int i = 1; i < hops; ++i) {
    pid_t pid = ::fork();
    if (pid < 0) die("fork");
    if (pid == 0) relay(pipes[static_cast<size_t>(i - 1)], pipes[static_cast<size_t>(i)]);
    relays.push_back(pid);
  }
  std::vector<double> us;
  us.reserve(static_cast<size_t>(rounds));
  char byte = 0;
  const double steal_before = steal_ms();
  const auto run_start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
    auto start = std::chrono::steady_clock::now();
    if (::write(pipes.front().write, &byte, 1) != 1) die("write");
    if (::read(pipes.back().read, &byte, 1) != 1) die("read");
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  const double steal = steal_ms() - steal_before;
  const double run_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  for (pid_t pid : relays) ::kill(pid, SIGKILL);
  for (pid_t pid : relays) ::waitpid(pid, nullptr, 0);
  std::sort(us.begin(), us.end());
  std::printf("%d hand-offs after %d us idle: p50 %.0f us, p99 %.0f us, max %.0f us (%d rounds)",
              hops, gap_us, percentile(us, 0.50), percentile(us, 0.99), us.back(), rounds);
  if (steal_before >= 0) std::printf("; steal %.0f ms of CPU in %.1f s", steal, run_s);
  std::printf("\n");
  return 0;
}
