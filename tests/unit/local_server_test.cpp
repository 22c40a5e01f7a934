// The ss-* commands end to end: the real slipway-agent binary, invoked
// through ss-* symlinks, talks to a LocalServer and PendingRequests in this
// process; a fake controller answers the messages they would send.
#include "agent/local_server.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <map>
#include <thread>

#include "agent/pending_requests.h"
#include "agent/script_env.h"
#include "agent_test_loop.h"
#include "common/frame.h"
#include "support/harness.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace slipway;
using namespace slipway::agent;

namespace {

// The controller's side, as far as the ss-* commands can tell: parameters
// of this deployment, answered from the loop like replies off the link.
class FakeController {
 public:
  explicit FakeController(test::AgentLoop& t) : t_(t) {}

  bool link_up = true;
  std::map<std::string, std::string> params;
  std::vector<proto::AgentMessage> received;
  PendingRequests* requests = nullptr;

  bool receive(const proto::AgentMessage& message) {
    if (!link_up) return false;
    received.push_back(message);
    std::visit([this](const auto& m) { handle(m); }, message);
    return true;
  }

 private:
  void reply(uint64_t id, std::string code, std::string value = "",
             std::vector<std::string> values = {}, int64_t delay_ms = 0) {
    t_.loop.after(delay_ms, [=, this] {
      requests->on_reply(proto::Reply{id, code, value, values, ""});
    });
  }
  void handle(const proto::Get& get) {
    auto it = params.find(get.key);
    if (it != params.end()) return reply(get.id, "ok", it->second);
    if (!get.wait) return reply(get.id, "not-set");
    if (get.timeout_ms > 0) reply(get.id, "timeout", "", {}, get.timeout_ms);
    // else: waits until set (not modelled) or aborted
  }
  void handle(const proto::GetAll& all) {
    reply(all.id, "ok", "",
          {all.node + ".1 " + params[all.key], all.node + ".2 " + params[all.key]});
  }
  void handle(const proto::Set& set) {
    if (set.key.find(':') != std::string::npos) return reply(set.id, "permission-denied");
    params[set.key] = set.value;
    reply(set.id, "ok");
  }
  void handle(const proto::Barrier& barrier) { reply(barrier.id, "ok", "", {}, 100); }
  void handle(const proto::Abort& abort) {
    params["ss:abort"] = abort.cancel ? "" : abort.reason;
    reply(abort.id, "ok");
  }
  template <typename T>
  void handle(const T&) {}

  test::AgentLoop& t_;
};

struct Fixture {
  Fixture() {
    t.reap = false;  // test::run waits for its own children
    controller.requests = &requests;
    REQUIRE(server.listen(socket).ok());
    REQUIRE(install_command_links(dir.path() + "/bin", test::agent_path(), false).ok());
  }

  // Runs an ss-* command with the agent socket set, serving it meanwhile;
  // `when_waiting` is called once its request waits for the controller.
  test::Output run(const std::string& command, std::vector<std::string> args,
                   const std::string& input = "", const std::string& socket_path = "",
                   std::function<void()> when_waiting = nullptr) {
    std::vector<std::string> argv = {
        "/usr/bin/env", "SLIPWAY_AGENT_SOCKET=" + (socket_path.empty() ? socket : socket_path),
        dir.path() + "/bin/" + command};
    argv.insert(argv.end(), args.begin(), args.end());
    std::atomic<bool> finished{false};
    test::Output output;
    std::thread runner([&] {
      output = test::run(argv, input, 20000);
      finished = true;
    });
    t.run_until(
        [&] {
          if (when_waiting && requests.size() > 0) {
            auto call = std::move(when_waiting);
            when_waiting = nullptr;
            call();
          }
          return finished.load();
        },
        25000);
    runner.join();
    return output;
  }

  test::TempDir dir;
  std::string socket = dir.path() + "/agent.sock";
  test::AgentLoop t;
  FakeController controller{t};
  PendingRequests requests{t.loop,
                           [this](const proto::AgentMessage& m) { return controller.receive(m); },
                           [this] { return controller.link_up; }};
  LocalServer server{t.loop, requests};
};

int connect_to(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

}  // namespace

TEST_CASE("ss-set and ss-get pass values through the agent", "[agent][ss]") {
  Fixture a;
  auto set = a.run("ss-set", {"port", "3306"});
  CHECK(set.status == 0);
  CHECK(set.err.empty());
  auto get = a.run("ss-get", {"port"});
  CHECK(get.status == 0);
  CHECK(get.out == "3306\n");

  // "-" reads standard input, less exactly one trailing newline.
  CHECK(a.run("ss-set", {"motd", "-"}, "line one\nline two\n\n").status == 0);
  CHECK(a.controller.params["motd"] == "line one\nline two\n");
  CHECK(a.run("ss-set", {"neg", "-5"}).status == 0);
  CHECK(a.controller.params["neg"] == "-5");

  // What went to the controller: a get with the default timeout, waiting.
  auto gets = test::Sent{a.controller.received}.all<proto::Get>();
  REQUIRE(gets.size() == 1);
  CHECK(gets[0].key == "port");
  CHECK(gets[0].timeout_ms == 60000);
  CHECK(gets[0].wait);
  CHECK(a.requests.size() == 0);
}

TEST_CASE("ss-get exit codes: not set with --noblock, timeout, aborted", "[agent][ss]") {
  Fixture a;
  auto not_set = a.run("ss-get", {"--noblock", "db:ready"});
  CHECK(not_set.status == 1);
  CHECK(not_set.out.empty());
  CHECK(not_set.err == "ss-get: db:ready is not set\n");

  auto timeout = a.run("ss-get", {"--timeout", "0.3", "db:ready"});
  CHECK(timeout.status == 9);
  CHECK(timeout.err == "ss-get: timed out waiting for db:ready\n");
  CHECK(test::Sent{a.controller.received}.all<proto::Get>().back().timeout_ms == 300);

  // A get waiting forever is released by the abort flag.
  auto aborted = a.run("ss-get", {"--timeout", "0", "db:ready"}, "", "",
                       [&] { a.requests.abort_all("web.1: ERROR 1045"); });
  CHECK(aborted.status == 8);
  CHECK(aborted.err == "ss-get: the deployment was aborted: web.1: ERROR 1045\n");
}

TEST_CASE("ss-* usage errors exit 2 with one line", "[agent][ss]") {
  Fixture a;
  struct Case {
    std::string command;
    std::vector<std::string> args;
  };
  for (const Case& c : std::vector<Case>{{"ss-get", {}},
                                         {"ss-get", {"a", "b"}},
                                         {"ss-get", {"--bogus", "a"}},
                                         {"ss-get", {"--timeout"}},
                                         {"ss-get", {"--timeout", "-1", "a"}},
                                         {"ss-get", {"--noblock=yes", "a"}},
                                         {"ss-set", {"only-key"}},
                                         {"ss-get-all", {"web"}},
                                         {"ss-display", {}},
                                         {"ss-abort", {"--cancel", "why"}},
                                         {"ss-random", {"-s", "0"}},
                                         {"ss-random", {"-s", "1025"}},
                                         {"ss-random", {"a", "b"}},
                                         {"ss-barrier", {}},
                                         {"ss-barrier", {"--count", "2", "--nodes", "a", "x"}},
                                         {"ss-barrier", {"--nodes", "a,,b", "x"}}}) {
    auto out = a.run(c.command, c.args);
    INFO(c.command << " " << (c.args.empty() ? "" : c.args[0]));
    CHECK(out.status == 2);
    CHECK(out.out.empty());
    CHECK(out.err.rfind(c.command + ": ", 0) == 0);
    CHECK(out.err.find("(usage: " + c.command) != std::string::npos);
    CHECK(std::count(out.err.begin(), out.err.end(), '\n') == 1);
  }
  CHECK(a.controller.received.empty());
  auto help = a.run("ss-get", {"--help"});
  CHECK(help.status == 0);
  CHECK(help.out == "usage: ss-get [--timeout S] [--noblock] KEY\n");
}

TEST_CASE("ss-* exit 4 when the agent cannot be reached", "[agent][ss]") {
  Fixture a;
  auto missing = a.run("ss-get", {"port"}, "", a.dir.path() + "/no-such.sock");
  CHECK(missing.status == 4);
  CHECK(missing.err.rfind("ss-get: cannot reach the agent at " + a.dir.path() + "/no-such.sock",
                          0) == 0);

  // A socket file nobody listens on.
  std::string dead = a.dir.path() + "/dead.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", dead.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  ::close(fd);
  CHECK(a.run("ss-set", {"k", "v"}, "", dead).status == 4);

  // No SLIPWAY_AGENT_SOCKET: the default path, absent here.
  auto unset =
      test::run({"/usr/bin/env", "-u", "SLIPWAY_AGENT_SOCKET", a.dir.path() + "/bin/ss-get", "x"});
  CHECK(unset.status == 4);
  CHECK(unset.err.find("/var/lib/slipway-agent/agent.sock") != std::string::npos);
}

TEST_CASE("ss-get-all, ss-display, ss-abort, ss-random and ss-barrier", "[agent][ss]") {
  Fixture a;
  a.controller.params["url"] = "http://x";
  auto all = a.run("ss-get-all", {"--timeout", "5", "web", "url"});
  CHECK(all.status == 0);
  CHECK(all.out == "web.1 http://x\nweb.2 http://x\n");

  CHECK(a.run("ss-display", {"installing", "MariaDB"}).status == 0);
  CHECK(a.controller.params["statecustom"] == "installing MariaDB");

  auto random = a.run("ss-random", {});
  CHECK(random.status == 0);
  CHECK(random.out.size() == 13);
  auto keyed = a.run("ss-random", {"-s", "32", "password"});
  CHECK(keyed.status == 0);
  REQUIRE(keyed.out.size() == 33);
  CHECK(a.controller.params["password"] == keyed.out.substr(0, 32));
  for (char c : a.controller.params["password"]) CHECK(std::isalnum(static_cast<unsigned char>(c)));
  // Setting someone else's parameter is refused: 6, and nothing printed.
  auto denied = a.run("ss-random", {"db:password"});
  CHECK(denied.status == 6);
  CHECK(denied.out.empty());

  CHECK(a.run("ss-abort", {"disk", "full"}).status == 0);
  CHECK(a.controller.params["ss:abort"] == "disk full");
  CHECK(a.run("ss-abort", {"--cancel"}).status == 0);
  CHECK(a.controller.params["ss:abort"].empty());

  CHECK(a.run("ss-barrier", {"--nodes", "db,web", "--timeout", "10", "ready"}).status == 0);
  auto barriers = test::Sent{a.controller.received}.all<proto::Barrier>();
  REQUIRE(barriers.size() == 1);
  CHECK(barriers[0].name == "ready");
  CHECK(barriers[0].nodes == std::vector<std::string>{"db", "web"});
  CHECK(barriers[0].timeout_ms == 10000);
  CHECK(a.run("ss-barrier", {"--count", "3", "go"}).status == 0);
  CHECK(test::Sent{a.controller.received}.all<proto::Barrier>().back().count == 3);
}

TEST_CASE("values over 64 KiB are refused with invalid-argument", "[agent][ss]") {
  Fixture a;
  auto big = a.run("ss-set", {"blob", "-"}, std::string(proto::kMaxValueSize + 2, 'b'));
  CHECK(big.status == 2);
  CHECK(big.err == "ss-set: the value is larger than 64 KiB\n");
  // Exactly 64 KiB (plus the newline stripped) is fine.
  CHECK(a.run("ss-set", {"blob", "-"}, std::string(proto::kMaxValueSize, 'b') + "\n").status == 0);
  CHECK(a.controller.params["blob"].size() == proto::kMaxValueSize);

  // The agent refuses it too, whoever sends it.
  int fd = connect_to(a.socket);
  Value request = Value::object()
                      .set("op", "set")
                      .set("key", "k")
                      .set("value", std::string(proto::kMaxValueSize + 1, 'v'));
  REQUIRE(frame::write_frame(fd, request.pack()).ok());
  std::string payload;
  std::atomic<bool> got{false};
  std::thread reader([&] {
    auto answer = frame::read_frame(fd, 1 << 20);
    if (answer.ok()) payload = *answer;
    got = true;
  });
  a.t.run_until([&] { return got.load(); }, 5000);
  reader.join();
  ::close(fd);
  auto answer = local::decode_answer(payload);
  REQUIRE(answer.ok());
  CHECK(answer->code == "invalid-argument");
}

TEST_CASE("a request made while the link is down is sent after the welcome", "[agent][ss]") {
  Fixture a;
  a.controller.link_up = false;
  a.controller.params["db:ready"] = "yes";
  auto get = a.run("ss-get", {"db:ready"}, "", "", [&] {
    CHECK(a.controller.received.empty());
    a.controller.link_up = true;
    a.requests.on_welcome();
  });
  CHECK(get.status == 0);
  CHECK(get.out == "yes\n");
}

TEST_CASE("the local socket serves many clients at once and forgets those that leave",
          "[agent][ss]") {
  Fixture a;
  // Ten blocked ss-get at once, all released when the value comes.
  std::vector<std::thread> threads;
  std::atomic<int> succeeded{0};
  std::atomic<int> finished{0};
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      auto out = test::run({"/usr/bin/env", "SLIPWAY_AGENT_SOCKET=" + a.socket,
                            a.dir.path() + "/bin/ss-get", "--timeout", "0", "late"});
      if (out.status == 0 && out.out == "here\n") ++succeeded;
      ++finished;
    });
  }
  REQUIRE(a.t.run_until([&] { return a.requests.size() == 10; }, 10000));
  CHECK(a.server.clients() == 10);
  auto gets = test::Sent{a.controller.received}.all<proto::Get>();
  for (const auto& get : gets) {
    a.requests.on_reply(proto::Reply{get.id, "ok", "here", {}, ""});
  }
  a.t.run_until([&] { return finished == 10; }, 10000);
  for (auto& thread : threads) thread.join();
  CHECK(succeeded == 10);

  // A client that goes away mid-request has its request forgotten.
  int fd = connect_to(a.socket);
  REQUIRE(frame::write_frame(fd, local::encode_request(proto::Get{0, "never", 0, true})).ok());
  REQUIRE(a.t.run_until([&] { return a.requests.size() == 1; }));
  ::close(fd);
  REQUIRE(a.t.run_until([&] { return a.requests.size() == 0 && a.server.clients() == 0; }));
}
