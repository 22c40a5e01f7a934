// Coordination proven, not assumed: aborts reach blocked machines at once,
// consumers that start early still get their value, and timeouts end waits.
#include <catch2/catch.hpp>

#include "support/deploy_harness.h"

using namespace slipway;
using namespace slipway::test;

namespace {

constexpr const char* kFailure = R"yaml(
kind: image
name: e2e/failer
parent: base/host
scripts:
  deployment: |
    ss-get waiter:waiting > /dev/null
    sleep 0.5
    date +%s%N > /root/failed_at
    echo "about to fail"
    echo "the disk is on fire" >&2
    exit 3
  report: |
    cp /root/failed_at "$SLIPWAY_REPORT_DIR/"
)yaml";

constexpr const char* kWaiter = R"yaml(
kind: image
name: e2e/waiter
parent: base/host
parameters: {outputs: [waiting]}
scripts:
  deployment: |
    # The get runs detached, so that it outlives the script when the abort
    # stops it; it records how and when it returned.
    setsid sh -c 'ss-get --timeout 0 failer:never; echo "$? $(date +%s%N)" > /root/get_result' &
    sleep 0.3
    ss-set waiting yes
    sleep 600
  report: |
    for i in 1 2 3 4 5 6 7 8 9 10; do [ -s /root/get_result ] && break; sleep 0.2; done
    cp /root/get_result "$SLIPWAY_REPORT_DIR/"
)yaml";

constexpr const char* kAbortPair = R"yaml(
kind: deployment
name: e2e/abort
nodes:
  failer: {image: e2e/failer}
  waiter: {image: e2e/waiter}
)yaml";

constexpr const char* kProducer = R"yaml(
kind: image
name: e2e/producer
parent: base/host
parameters: {outputs: [value]}
scripts:
  deployment: |
    sleep 3
    date +%s%N > /root/set_at
    ss-set value 42
)yaml";

constexpr const char* kConsumer = R"yaml(
kind: image
name: e2e/consumer
parent: base/host
parameters: {outputs: [got, got_at, never_code, never_waited_ms]}
scripts:
  deployment: |
    start=$(date +%s%N)
    v=$(ss-get producer:value)
    ss-set got_at "$(date +%s%N)"
    ss-set got "$v"
    t0=$(date +%s%N)
    ss-get --timeout 2 producer:never
    code=$?
    ss-set never_code "$code"
    ss-set never_waited_ms "$(( ($(date +%s%N) - t0) / 1000000 ))"
)yaml";

constexpr const char* kOrdering = R"yaml(
kind: deployment
name: e2e/ordering
nodes:
  producer: {image: e2e/producer}
  consumer: {image: e2e/consumer}
)yaml";

}  // namespace

TEST_CASE(
    "a failing script aborts with its node and stderr line, a blocked ss-get elsewhere exits 8 "
    "within a second",
    "[e2e][local]") {
  SKIP_WITHOUT_ROOT();
  DeployHarness h;
  h.start();
  h.push(kFailure);
  h.push(kWaiter);
  h.push(kAbortPair);
  Output out;
  std::string id = h.deploy({"e2e/abort", "--wait"}, &out);
  INFO(out.err << "\n" << read_text(h.log()));
  CHECK(out.status == 8);
  Value d = h.show(id);
  CHECK(d["aborted"].as_bool());
  CHECK(d["abort_reason"].str() ==
        "failer.1: deployment script of e2e/failer@1 exited with status 3: the disk is on fire");
  CHECK(d["state"].str() == "Aborted");  // on-success: not kept after an abort

  REQUIRE(h.cli({"reports", id, "-o", h.dir() + "/r"}).status == 0);
  std::string failed_at = read_text(h.dir() + "/r/failer.1/failed_at");
  std::string result = read_text(h.dir() + "/r/waiter.1/get_result");
  REQUIRE(!failed_at.empty());
  REQUIRE(!result.empty());
  CHECK(result.substr(0, 2) == "8 ");
  double waited_s = (std::stod(result.substr(2)) - std::stod(failed_at)) / 1e9;
  CHECK(waited_s < 1.0);
  CHECK(waited_s > 0);
  CHECK(h.leftovers_text() == "");
}

TEST_CASE(
    "a consumer that starts long before its producer still gets the value, a never-set value times "
    "out with 9",
    "[e2e][local]") {
  SKIP_WITHOUT_ROOT();
  DeployHarness h;
  h.start();
  h.push(kProducer);
  h.push(kConsumer);
  h.push(kOrdering);
  Output out;
  std::string id = h.deploy({"e2e/ordering", "--wait"}, &out);
  INFO(out.err << "\n" << read_text(h.log()));
  REQUIRE(out.status == 0);
  CHECK(h.param(id, "consumer.1:got") == "42");
  // The consumer asked first and was answered only after the producer set it.
  CHECK(std::stoll(h.param(id, "consumer.1:got_at")) > 0);
  CHECK(h.param(id, "consumer.1:never_code") == "9");
  int64_t waited = std::stoll(h.param(id, "consumer.1:never_waited_ms"));
  CHECK(waited >= 1900);
  CHECK(waited < 4000);
  CHECK(h.terminate_and_wait(id) == "Done");
  CHECK(h.leftovers_text() == "");
}

TEST_CASE("the same coordination runs on the process cloud without namespaces", "[e2e][process]") {
  DeployHarness h;
  h.start();
  h.push(kProducer);
  h.push(kConsumer);
  h.push(kOrdering);
  Output out;
  std::string id = h.deploy({"e2e/ordering", "--cloud", "process", "--wait"}, &out);
  INFO(out.err << "\n" << read_text(h.log()));
  REQUIRE(out.status == 0);
  CHECK(h.param(id, "consumer.1:got") == "42");
  CHECK(h.param(id, "consumer.1:never_code") == "9");
  CHECK(h.terminate_and_wait(id) == "Done");
  CHECK(h.leftovers_text() == "");
}
