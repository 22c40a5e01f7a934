// The agent's small pieces: progress file, step scripts, script environment,
// the local protocol's codec, the outbox and the pending-request table.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent/local_protocol.h"
#include "agent/outbox.h"
#include "agent/pending_requests.h"
#include "agent/progress_file.h"
#include "agent/script_env.h"
#include "agent/step_script.h"
#include "agent_test_loop.h"
#include "common/fs.h"
#include "common/value.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace slipway;
using namespace slipway::agent;

TEST_CASE("the progress file keeps completed step ids across reloads", "[agent][progress]") {
  test::TempDir dir;
  std::string path = dir.path() + "/progress";
  ProgressFile progress(path);
  REQUIRE(progress.load().ok());
  CHECK(progress.ids().empty());
  REQUIRE(progress.record("pre-install:base").ok());
  REQUIRE(progress.record("packages").ok());
  REQUIRE(progress.record("packages").ok());  // once only
  CHECK(test::read_text(path) == "pre-install:base\npackages\n");
  CHECK_FALSE(progress.record("two\nlines").ok());
  CHECK_FALSE(progress.record("").ok());

  // A crash mid-append leaves a torn last line, which does not count.
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
  REQUIRE(::write(fd, "deploy", 6) == 6);
  ::close(fd);
  ProgressFile reloaded(path);
  REQUIRE(reloaded.load().ok());
  CHECK(reloaded.contains("packages"));
  CHECK(reloaded.contains("pre-install:base"));
  CHECK_FALSE(reloaded.contains("deploy"));
}

TEST_CASE("step scripts: file names, package managers, interpreters", "[agent][recipe]") {
  CHECK(sanitize_step_id("post-install:examples/lamp/db") == "post-install_examples_lamp_db");
  CHECK(sanitize_step_id("..") == "step..");
  CHECK(sanitize_step_id(std::string(300, 'a')).size() == 200);
  CHECK(shell_quote("it's") == "'it'\\''s'");

  std::string apt = package_script("debian", {"curl", "php-mysql"});
  CHECK(apt.find("DEBIAN_FRONTEND=noninteractive") != std::string::npos);
  CHECK(apt.find("apt-get update -qq -o Acquire::Languages=none\n") != std::string::npos);
  CHECK(apt.find("apt-get install -y -qq --no-install-recommends "
                 "-o Dpkg::Options::=--force-unsafe-io 'curl' 'php-mysql'\n") != std::string::npos);
  CHECK(package_script("ubuntu", {"x"}).find("apt-get install") != std::string::npos);
  CHECK(package_script("alpine", {"x"}).find("apk add --no-cache 'x'") != std::string::npos);
  CHECK(package_script("fedora", {"x"}).find("dnf install -y 'x'") != std::string::npos);
  CHECK(package_script("centos", {"x"}).find("yum install -y 'x'") != std::string::npos);
  CHECK(package_script("busybox", {"x"}).find("platform busybox has no package manager") !=
        std::string::npos);
  CHECK(package_script("plan9", {"x"}).find("exit 1") != std::string::npos);

  proto::Step odd;
  odd.id = "x";
  odd.kind = "magic";
  CHECK_FALSE(step_script_text(odd, "debian").ok());

  CHECK(script_command("/s", "#!/usr/bin/python3\n") == std::vector<std::string>{"/s"});
  CHECK(script_command("/s", "echo hi\n") == std::vector<std::string>{"/bin/sh", "/s"});
}

TEST_CASE("the scripts' environment", "[agent][recipe]") {
  CHECK(node_of("web.2") == "web");
  CHECK(node_of("db") == "db");
  CHECK(node_of("a.b.10") == "a.b");
  CHECK(node_of("v1.x") == "v1.x");

  ScriptIdentity id{"/var/lib/slipway-agent", "dep", "web.2", {{"SLIPWAY_SCALE_ACTION", "add"}}};
  auto env = script_environment(id, {"TERM=xterm", "SLIPWAY_SECRET=x", "HOME=/home/me"});
  auto has = [&](const std::string& entry) {
    return std::find(env.begin(), env.end(), entry) != env.end();
  };
  CHECK(has("TERM=xterm"));
  CHECK(has("HOME=/home/me"));
  CHECK(has("SLIPWAY_SCALE_ACTION=add"));
  CHECK(
      has("PATH=/var/lib/slipway-agent/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/"
          "sbin:/bin"));
  CHECK(has("SLIPWAY_NODE=web"));
  CHECK_FALSE(has("SLIPWAY_SECRET=x"));
}

TEST_CASE("ss-* links are made next to the state and stale ones replaced", "[agent][recipe]") {
  test::TempDir dir;
  std::string bin = dir.path() + "/bin";
  REQUIRE(install_command_links(bin, "/old/agent", false).ok());
  REQUIRE(install_command_links(bin, "/new/agent", false).ok());
  char target[256] = {};
  REQUIRE(::readlink((bin + "/ss-barrier").c_str(), target, sizeof target - 1) > 0);
  CHECK(std::string(target) == "/new/agent");
  // only_if_absent leaves what is there alone.
  REQUIRE(install_command_links(bin, "/third/agent", true).ok());
  std::fill(std::begin(target), std::end(target), 0);
  REQUIRE(::readlink((bin + "/ss-get").c_str(), target, sizeof target - 1) > 0);
  CHECK(std::string(target) == "/new/agent");
}

TEST_CASE("local requests and answers round-trip, and bad ones are refused", "[agent][local]") {
  proto::Barrier barrier{0, "ready", 0, {"db", "web"}, 1500};
  auto decoded = local::decode_request(local::encode_request(barrier));
  REQUIRE(decoded.ok());
  auto* b = std::get_if<proto::Barrier>(&*decoded);
  REQUIRE(b != nullptr);
  CHECK(b->nodes == std::vector<std::string>{"db", "web"});
  CHECK(b->timeout_ms == 1500);

  local::Answer answer{"not-set", "", {"web.1 a", "web.2 b"}, "port is not set"};
  auto back = local::decode_answer(local::encode_answer(answer));
  REQUIRE(back.ok());
  CHECK(back->code == "not-set");
  CHECK(back->values == answer.values);
  CHECK(back->message == answer.message);

  auto refused = [](const Value& v) {
    auto r = local::decode_request(v.pack());
    return r.ok() ? Code::kOk : r.error().code();
  };
  CHECK(refused(Value::object().set("op", "format-disk")) == Code::kUsage);
  CHECK(refused(Value::object().set("op", "get")) == Code::kUsage);
  CHECK(refused(Value::object().set("op", "get").set("key", "k").set("timeout_ms", -1)) ==
        Code::kInvalidArgument);
  CHECK(refused(Value::object()
                    .set("op", "set")
                    .set("key", "k")
                    .set("value", std::string(proto::kMaxValueSize + 1, 'v'))) ==
        Code::kInvalidArgument);
  CHECK(refused(Value::object()
                    .set("op", "set")
                    .set("key", "k")
                    .set("value", std::string(proto::kMaxValueSize, 'v'))) == Code::kOk);
  CHECK(local::decode_request("\xc1").error().code() == Code::kUsage);
  CHECK_FALSE(local::decode_answer("\x93\x01\x02\x03").ok());

  CHECK(local::local_deadline_ms(proto::Get{0, "k", 5000, true}) == 7000);
  CHECK(local::local_deadline_ms(proto::Get{0, "k", 0, true}) == 0);
  CHECK(local::local_deadline_ms(proto::Barrier{}) == 0);
  CHECK(local::local_deadline_ms(proto::Set{}) > 0);
}

TEST_CASE("the outbox keeps order while the link is down and flushes after", "[agent][link]") {
  test::AgentLoop t;
  bool up = false;
  std::vector<std::string> sent;
  Outbox outbox(t.loop, [&](const proto::AgentMessage& m) {
    if (!up) return false;
    sent.emplace_back(proto::type_name(m));
    return true;
  });
  outbox.post(proto::StepStarted{"a"});
  outbox.post(proto::Log{"a", proto::kStdout, 0, "x"});
  outbox.post(proto::StepDone{"a", 0, ""});
  CHECK(outbox.queued() == 3);
  up = true;
  outbox.post(proto::StateDone{"Executing"});  // still behind the others
  CHECK(sent.empty());
  outbox.flush();
  CHECK(sent == std::vector<std::string>{"step_started", "log", "step_done", "state_done"});
  CHECK(outbox.queued() == 0);

  // Past the bound, log chunks are dropped but not the rest.
  up = false;
  for (int i = 0; i < 200; ++i) {
    outbox.post(
        proto::Log{"b", proto::kStdout, static_cast<uint64_t>(i), std::string(64 << 10, 'l')});
  }
  outbox.post(proto::StepDone{"b", 0, ""});
  CHECK(outbox.dropped_logs() > 0);
  CHECK(outbox.queued() < 200);
  up = true;
  outbox.flush();
  CHECK(sent.back() == "step_done");
}

TEST_CASE("pending requests: resent after a welcome, aborted, unavailable", "[agent][local]") {
  test::AgentLoop t;
  bool up = false;
  test::Sent sent;
  auto sender = sent.sender();
  PendingRequests requests(
      t.loop, [&](const proto::AgentMessage& m) { return up && sender(m); }, [&] { return up; });
  std::vector<std::string> answers;
  auto record = [&](const local::Answer& a) { answers.push_back(a.code); };

  uint64_t get = requests.submit(proto::Get{0, "db:ready", 0, true}, record);
  uint64_t abort = requests.submit(proto::Abort{0, "why", false}, record);
  requests.submit(proto::Get{0, "short", 100, true}, record);
  CHECK(get != abort);
  CHECK(sent.messages.empty());  // the link is down
  up = true;
  requests.on_welcome();
  REQUIRE(sent.count<proto::Get>() == 2);
  CHECK(sent.all<proto::Get>()[0].id == get);
  CHECK(sent.count<proto::Abort>() == 1);

  // A reply for something unknown is not ours; a reply answers once.
  CHECK_FALSE(requests.on_reply(proto::Reply{get + 1000, "ok", "", {}, ""}));
  // The link goes down; the short request passes its deadline (100 ms + 2 s).
  up = false;
  requests.on_lost();
  CHECK(answers.empty());
  REQUIRE(t.run_until([&] { return !answers.empty(); }, 3000));
  CHECK(answers == std::vector<std::string>{"unavailable"});

  // The abort flag rises: every waiting request but ss-abort's is answered.
  requests.abort_all("ss-abort: disk full");
  CHECK(answers == std::vector<std::string>{"unavailable", "aborted"});
  CHECK(requests.size() == 1);
  CHECK(requests.on_reply(proto::Reply{abort, "ok", "", {}, ""}));
  CHECK(answers.back() == "ok");
  CHECK_FALSE(requests.on_reply(proto::Reply{get, "ok", "1", {}, ""}));  // answered already
  CHECK(requests.size() == 0);
}
