// Runs inside a machine of a benchmark deployment and measures coordination
// through the real agent and controller, over one connection to the agent's
// local socket: no process start per request (unlike an ss-get in a script).
//
//   coordination_client get KEY COUNT        gets of a value already set
//   coordination_client wake-producer COUNT  sets bench.K to the time, waits for the ack
//   coordination_client wake-consumer COUNT  blocks on producer:bench.K; latency = now - value
//   coordination_client barrier ROUNDS       barriers b1..bROUNDS: arrival and release times
//
// Results are published as runtime parameters (get_us, wake_us, arrive_bN,
// release_bN) for bench/coordination.sh to collect.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "agent/local_protocol.h"
#include "common/frame.h"

using namespace slipway;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Client {
 public:
  Client() {
    const char* path = std::getenv("SLIPWAY_AGENT_SOCKET");
    if (path == nullptr) die("SLIPWAY_AGENT_SOCKET is not set: run me from a deployment script");
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      die("cannot reach the agent");
  }
  agent::local::Answer call(const agent::local::Request& request) {
    if (!frame::write_frame(fd_, agent::local::encode_request(request)).ok()) die("send failed");
    auto payload = frame::read_frame(fd_, agent::local::kMaxLocalFrame);
    if (!payload.ok()) die("the agent hung up");
    auto answer = agent::local::decode_answer(*payload);
    if (!answer.ok()) die("bad answer");
    if (answer->code != "ok")
      die(("request failed: " + answer->code + " " + answer->message).c_str());
    return *answer;
  }
  std::string get(const std::string& key) {
    proto::Get g;
    g.key = key;
    g.timeout_ms = 0;
    g.wait = true;
    return call(g).value;
  }
  void set(const std::string& key, const std::string& value) {
    proto::Set s;
    s.key = key;
    s.value = value;
    call(s);
  }

  [[noreturn]] static void die(const char* why) {
    std::fprintf(stderr, "coordination_client: %s\n", why);
    std::exit(1);
  }

 private:
  int fd_ = -1;
};

// "p50 p99 max" in microseconds.
std::string summary(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))];
  };
  char buf[128];
  std::snprintf(buf, sizeof buf, "%.0f %.0f %.0f %zu", at(0.50), at(0.99), us.back(), us.size());
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3)
    Client::die(
        "usage: coordination_client get KEY COUNT | wake-producer N | wake-consumer N | barrier "
        "ROUNDS");
  std::string mode = argv[1];
  Client client;
  if (mode == "get" && argc == 4) {
    int count = std::atoi(argv[3]);
    std::vector<double> us;
    for (int i = 0; i < count; ++i) {
      auto start = std::chrono::steady_clock::now();
      client.get(argv[2]);
      us.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count());
    }
    client.set("get_us", summary(us));
  } else if (mode == "wake-producer") {
    int count = std::atoi(argv[2]);
    for (int i = 0; i < count; ++i) {
      // Give the consumer's next get time to reach the controller and block.
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
      client.set("bench." + std::to_string(i), std::to_string(now_ns()));
      client.get("consumer:ack." + std::to_string(i));
    }
  } else if (mode == "wake-consumer") {
    int count = std::atoi(argv[2]);
    std::vector<double> us;
    for (int i = 0; i < count; ++i) {
      std::string sent = client.get("producer:bench." + std::to_string(i));
      us.push_back(static_cast<double>(now_ns() - std::stoll(sent)) / 1000.0);
      client.set("ack." + std::to_string(i), "1");
    }
    client.set("wake_us", summary(us));
  } else if (mode == "barrier") {
    // Rounds b1..bN back to back. The times are published only after the
    // last round: publishing them at once meant 200 sets competing with the
    // very release being measured.
    int rounds = std::atoi(argv[2]);
    std::vector<std::pair<int64_t, int64_t>> times;
    for (int round = 1; round <= rounds; ++round) {
      proto::Barrier b;
      b.name = "b" + std::to_string(round);
      int64_t arrive = now_ns();
      client.call(b);
      times.emplace_back(arrive, now_ns());
    }
    for (int round = 1; round <= rounds; ++round) {
      client.set("arrive_b" + std::to_string(round), std::to_string(times[round - 1].first));
      client.set("release_b" + std::to_string(round), std::to_string(times[round - 1].second));
    }
  } else {
    Client::die("unknown mode");
  }
  return 0;
}
