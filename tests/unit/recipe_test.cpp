// The recipe and its step runner against real /bin/sh scripts.
#include "agent/recipe.h"

#include <catch2/catch.hpp>
#include <memory>

#include "agent/lingering_pipes.h"
#include "agent/outbox.h"
#include "agent_test_loop.h"
#include "common/fs.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace slipway;
using namespace slipway::agent;

namespace {

proto::Step script(const std::string& id, const std::string& body,
                   const std::string& state = "Executing") {
  proto::Step step;
  step.id = id;
  step.state = state;
  step.kind = "script";
  step.name = id;
  step.module = "test/module";
  step.body = body;
  return step;
}

// A recipe on a temporary state directory, its messages recorded; report
// chunks are acknowledged as the controller would.
struct Machine {
  explicit Machine(const std::string& dir, std::vector<std::string> env = {"PATH=/usr/bin:/bin"})
      : state_dir(dir) {
    make(std::move(env));
  }
  void make(std::vector<std::string> env) {
    recipe.reset();
    RecipeOptions options{state_dir, std::move(env), "dep1", "web.2"};
    recipe = std::make_unique<Recipe>(
        t.loop, t.reaper, lingering, outbox, sent.sender(), [this] { return ++ids; }, options);
    REQUIRE(recipe->open().ok());
  }
  void welcome(const std::string& state, std::vector<proto::Step> steps, bool aborted = false,
               std::vector<std::string> completed = {}) {
    proto::Welcome w;
    w.instance = "web.2";
    w.deployment = "dep1";
    w.state = state;
    w.aborted = aborted;
    w.plan.platform = platform;
    w.plan.steps = std::move(steps);
    w.plan.env = {{"APP_MODE", "test"}};
    w.completed = std::move(completed);
    recipe->on_welcome(w);
  }
  bool state_done(const std::string& state, int64_t timeout_ms = 5000) {
    return t.run_until(
        [&] {
          acknowledge_reports();
          for (const auto& done : sent.all<proto::StateDone>()) {
            if (done.state == state) return true;
          }
          return false;
        },
        timeout_ms);
  }
  void acknowledge_reports() {
    auto chunks = sent.all<proto::ReportChunk>();
    for (size_t i = acknowledged; i < chunks.size(); ++i) {
      reports[chunks[i].name] += chunks[i].data;
      recipe->on_reply(proto::Reply{chunks[i].id, "ok", "", {}, ""});
    }
    acknowledged = chunks.size();
  }
  std::vector<proto::StepDone> done_steps() const { return sent.all<proto::StepDone>(); }

  std::string state_dir;
  std::string platform = "debian";
  test::AgentLoop t;
  test::Sent sent;
  LingeringPipes lingering{t.loop};
  Outbox outbox{t.loop, sent.sender()};
  uint64_t ids = 0;
  std::unique_ptr<Recipe> recipe;
  size_t acknowledged = 0;
  std::map<std::string, std::string> reports;
};

}  // namespace

TEST_CASE("the Executing steps run in plan order, then state_done", "[agent][recipe]") {
  test::TempDir dir;
  Machine m(dir.path());
  m.welcome("Executing", {script("a", "echo alpha"), script("report", "echo r", "SendingReports"),
                          script("b", "echo beta >&2")});
  REQUIRE(m.state_done("Executing"));
  CHECK(m.sent.sequence() == "step_started step_done step_started step_done state_done");
  auto done = m.done_steps();
  REQUIRE(done.size() == 2);
  CHECK(done[0].step == "a");
  CHECK(done[0].exit_code == 0);
  CHECK(done[1].step == "b");
  CHECK(m.sent.output("a", proto::kStdout) == "alpha\n");
  CHECK(m.sent.output("b", proto::kStderr) == "beta\n");
  CHECK(test::read_text(dir.path() + "/progress") == "a\nb\n");
  std::string log = test::read_text(dir.path() + "/scripts.log");
  CHECK(log.find("step a (a of test/module)\nalpha\n") != std::string::npos);
  CHECK(log.find("step b exited with code 0") != std::string::npos);
  CHECK(fs::exists(dir.path() + "/scripts/a"));
}

TEST_CASE("a failing step reports its exit code and last stderr line and stops the state",
          "[agent][recipe]") {
  test::TempDir dir;
  Machine m(dir.path());
  m.welcome("Executing", {script("fails",
                                 "echo first >&2\necho 'ERROR 1045: access denied'  >&2\necho >&2\n"
                                 "echo to stdout\nexit 3"),
                          script("later", "touch " + dir.path() + "/later-ran")});
  REQUIRE(m.t.run_until([&] { return m.done_steps().size() == 1; }));
  m.t.run_for(200);
  auto done = m.done_steps();
  REQUIRE(done.size() == 1);
  CHECK(done[0].exit_code == 3);
  CHECK(done[0].error_line == "ERROR 1045: access denied");
  CHECK(m.sent.count<proto::StateDone>() == 0);
  CHECK(m.sent.sequence() == "step_started step_done");
  CHECK_FALSE(fs::exists(dir.path() + "/later-ran"));
  CHECK_FALSE(fs::exists(dir.path() + "/progress"));

  // A reconnection in the same state sends the failure again, and runs nothing.
  m.welcome("Executing", {script("fails", "exit 3"), script("later", "true")});
  m.t.run_for(200);
  CHECK(m.sent.sequence() == "step_started step_done step_done");
}

TEST_CASE("a step killed by a signal reports 128 + the signal", "[agent][recipe]") {
  test::TempDir dir;
  Machine m(dir.path());
  m.welcome("Executing", {script("killed", "echo 'about to die' >&2; kill -KILL $$")});
  REQUIRE(m.t.run_until([&] { return m.done_steps().size() == 1; }));
  CHECK(m.done_steps()[0].exit_code == 137);
  CHECK(m.done_steps()[0].error_line == "about to die");
}

TEST_CASE("output arrives complete, in order, and coalesced into few chunks", "[agent][recipe]") {
  test::TempDir dir;
  Machine m(dir.path());
  // About 190 KB on stdout in many small writes, interleaved with stderr.
  m.welcome("Executing", {script("chatty",
                                 "i=0; while [ $i -lt 30000 ]; do echo line $i; "
                                 "i=$((i+1)); done; echo done >&2")});
  REQUIRE(m.state_done("Executing", 20000));
  std::string expected;
  for (int i = 0; i < 30000; ++i) expected += "line " + std::to_string(i) + "\n";
  std::string out = m.sent.output("chatty", proto::kStdout);
  CHECK(out.size() == expected.size());
  CHECK(out == expected);
  CHECK(m.sent.output("chatty", proto::kStderr) == "done\n");
  size_t chunks = m.sent.count<proto::Log>();
  CHECK(chunks < 200);  // not one message per line
  for (const auto& log : m.sent.all<proto::Log>()) CHECK(log.data.size() <= 64 * 1024);
}

TEST_CASE("an abort stops the running step within the grace period", "[agent][recipe]") {
  test::TempDir dir;
  Machine m(dir.path());
  // Ignores SIGTERM (and so does its sleep): only the SIGKILL 2 s later ends it.
  m.welcome("Executing", {script("stubborn", "trap '' TERM; echo started; sleep 30; echo woke"),
                          script("after", "touch " + dir.path() + "/after-ran"),
                          script("report", "echo reporting", "SendingReports")});
  REQUIRE(m.t.run_until([&] { return m.sent.output("stubborn", proto::kStdout) == "started\n"; }));
  int64_t start = m.t.clock.steady_ms();
  m.recipe->on_state(proto::StateChanged{"Executing", true, "ss-abort: disk full"});
  REQUIRE(m.t.run_until([&] { return m.done_steps().size() == 1; }, 4000));
  int64_t took = m.t.clock.steady_ms() - start;
  CHECK(took >= 1900);
  CHECK(took < 3500);
  CHECK(m.done_steps()[0].exit_code == 137);
  m.t.run_for(100);
  CHECK_FALSE(fs::exists(dir.path() + "/after-ran"));
  CHECK(m.sent.count<proto::StateDone>() == 0);

  // The run goes on to SendingReports, whose report steps still run.
  m.recipe->on_state(proto::StateChanged{"SendingReports", true, "ss-abort: disk full"});
  REQUIRE(m.state_done("SendingReports"));
  CHECK(m.sent.output("report", proto::kStdout) == "reporting\n");
}

TEST_CASE("a step that honours SIGTERM stops at once on abort", "[agent][recipe]") {
  test::TempDir dir;
  Machine m(dir.path());
  m.welcome("Executing", {script("sleeper", "echo started; sleep 30")});
  REQUIRE(m.t.run_until([&] { return !m.sent.output("sleeper", proto::kStdout).empty(); }));
  int64_t start = m.t.clock.steady_ms();
  m.recipe->on_state(proto::StateChanged{"Executing", true, "aborted by the user"});
  REQUIRE(m.t.run_until([&] { return m.done_steps().size() == 1; }, 3000));
  CHECK(m.t.clock.steady_ms() - start < 1000);
  CHECK(m.done_steps()[0].exit_code == 143);
}

TEST_CASE("scripts get the SLIPWAY_* environment, the plan's and the ss-* PATH",
          "[agent][recipe]") {
  test::TempDir dir;
  Machine m(dir.path(), {"PATH=/usr/bin:/bin", "SLIPWAY_CONTEXT_SECRET=leak", "KEEP_ME=yes"});
  m.welcome("Executing", {script("env", "env | sort")});
  REQUIRE(m.state_done("Executing"));
  std::string env = m.sent.output("env", proto::kStdout);
  const std::string& d = dir.path();
  for (const std::string& line :
       {std::string("SLIPWAY_DEPLOYMENT=dep1"), std::string("SLIPWAY_NODE=web"),
        std::string("SLIPWAY_NODE_INSTANCE=web.2"), "SLIPWAY_REPORT_DIR=" + d + "/reports",
        "SLIPWAY_AGENT_SOCKET=" + d + "/agent.sock", std::string("APP_MODE=test"),
        "PATH=" + d + "/bin:/usr/bin:/bin", std::string("HOME=/root"),
        std::string("KEEP_ME=yes")}) {
    CHECK(env.find(line + "\n") != std::string::npos);
  }
  CHECK(env.find("SLIPWAY_CONTEXT_SECRET") == std::string::npos);
  CHECK(fs::exists(d + "/reports"));
}

TEST_CASE("a script with a shebang is executed directly", "[agent][recipe]") {
  test::TempDir dir;
  Machine m(dir.path());
  // /bin/cat as the interpreter prints the script itself.
  m.welcome("Executing", {script("cat", "#!/bin/cat\nnot shell at all\n"),
                          script("missing", "#!/no/such/interpreter\n")});
  REQUIRE(m.t.run_until([&] { return m.done_steps().size() == 2; }));
  CHECK(m.sent.output("cat", proto::kStdout) == "#!/bin/cat\nnot shell at all\n");
  auto done = m.done_steps();
  CHECK(done[0].exit_code == 0);
  CHECK(done[1].exit_code == 127);
  CHECK(done[1].error_line.find("No such file or directory") != std::string::npos);
}

TEST_CASE("a completed step is never run again, even by a new agent on the same state dir",
          "[agent][recipe]") {
  test::TempDir dir;
  std::string counter = dir.path() + "/runs";
  std::vector<proto::Step> plan = {script("once", "echo run >> " + counter),
                                   script("known", "echo known >> " + counter)};
  {
    Machine m(dir.path());
    // The controller already knows "known" completed.
    m.welcome("Executing", plan, false, {"known"});
    REQUIRE(m.state_done("Executing"));
    CHECK(m.recipe->completed() == std::vector<std::string>{"once"});
  }
  Machine again(dir.path());
  CHECK(again.recipe->completed() == std::vector<std::string>{"once"});
  again.welcome("Executing", plan, false, {"known"});
  REQUIRE(again.state_done("Executing"));
  CHECK(again.sent.sequence() == "state_done");
  CHECK(test::read_text(counter) == "run\n");
}

TEST_CASE("packages on a platform without a package manager fail clearly", "[agent][recipe]") {
  test::TempDir dir;
  Machine m(dir.path());
  m.platform = "busybox";
  proto::Step packages;
  packages.id = "packages:test";
  packages.state = "Executing";
  packages.kind = "packages";
  packages.name = "packages";
  packages.packages = {"curl"};
  m.welcome("Executing", {packages});
  REQUIRE(m.t.run_until([&] { return m.done_steps().size() == 1; }));
  CHECK(m.done_steps()[0].exit_code == 1);
  CHECK(m.done_steps()[0].error_line == "platform busybox has no package manager");
}

TEST_CASE("SendingReports runs the report steps, uploads the reports, then state_done",
          "[agent][recipe][reports]") {
  test::TempDir dir;
  Machine m(dir.path());
  std::string big(600 * 1024, 'x');
  m.welcome("SendingReports",
            {script("exec", "echo executing", "Executing"),
             script("report",
                    "echo hello > $SLIPWAY_REPORT_DIR/a.txt\n"
                    "mkdir -p $SLIPWAY_REPORT_DIR/sub\n"
                    "head -c 614400 /dev/zero | tr '\\0' x > $SLIPWAY_REPORT_DIR/sub/big\n"
                    "echo report done",
                    "SendingReports")});
  REQUIRE(m.state_done("SendingReports"));
  CHECK(m.sent.count<proto::StepDone>() == 1);  // the Executing step is not this state's
  CHECK(m.reports["a.txt"] == "hello\n");
  CHECK(m.reports["sub/big"] == big);
  CHECK(m.reports["_slipway/scripts.log"].find("report done\n") != std::string::npos);
  auto chunks = m.sent.all<proto::ReportChunk>();
  REQUIRE(chunks.size() == 5);  // a.txt, big in three, the scripts log
  for (const auto& chunk : chunks) CHECK(chunk.data.size() <= proto::kMaxChunkSize);
  CHECK(chunks[1].name == "sub/big");
  CHECK(chunks[2].offset == proto::kMaxChunkSize);
  CHECK_FALSE(chunks[2].last);
  CHECK(chunks[3].last);
  // state_done comes after the last chunk.
  CHECK(m.sent.sequence().rfind("report state_done") ==
        m.sent.sequence().size() - std::string("report state_done").size());
}

TEST_CASE("Provisioning is done at once, Ready and unknown states need nothing",
          "[agent][recipe]") {
  test::TempDir dir;
  Machine m(dir.path());
  m.welcome("Provisioning", {script("a", "true")});
  REQUIRE(m.state_done("Provisioning"));
  CHECK(m.sent.sequence() == "state_done");
  m.recipe->on_state(proto::StateChanged{"Ready", false, ""});
  m.recipe->on_state(proto::StateChanged{"", false, ""});
  m.t.run_for(100);
  CHECK(m.sent.sequence() == "state_done");
}
