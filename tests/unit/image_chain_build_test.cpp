// What an image chain asks of a machine that boots a build of its first
// modules (ImageChain::plan with `built`), what a build's own machine runs
// (build_plan), and what makes a build stale (build_hash).
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "controller/catalog/image_chain.h"
#include "controller/catalog/module.h"

using namespace slipway;
using namespace slipway::controller;

namespace {

// base/os (a reference image) <- a/mid <- a/top, every module at version 1.
std::map<std::string, std::string> modules() {
  return {
      {"base/os",
       "kind: image\nname: base/os\nplatform: debian\n"
       "reference: {local: {rootfs: host}}\n"},
      {"a/mid", R"(kind: image
name: a/mid
description: the middle
parent: base/os
packages: [curl, git]
scripts: {pre-install: mid-pre, post-install: mid-post, deployment: mid-run, report: mid-report}
)"},
      {"a/top", R"(kind: image
name: a/top
description: the top
parent: a/mid
packages: [git, jq]
parameters: {inputs: {greeting: {default: hi}}}
scripts: {pre-install: top-pre, post-install: top-post, deployment: top-run, report: top-report}
)"},
  };
}

ImageChain chain_of(const std::map<std::string, std::string>& sources) {
  ModuleLookup lookup = [&](const std::string& name,
                            int64_t) -> Result<std::optional<StoredModule>> {
    auto it = sources.find(name);
    if (it == sources.end()) return std::optional<StoredModule>();
    auto parsed = parse_module(it->second, name + ".yaml");
    if (!parsed.ok()) return parsed.error();
    StoredModule m;
    m.name = name;
    m.version = 1;
    m.content = it->second;
    m.module = std::move(*parsed);
    return std::optional<StoredModule>(std::move(m));
  };
  auto chain = resolve_image_chain("a/top", lookup);
  INFO((chain.ok() ? "" : chain.error().message()));
  REQUIRE(chain.ok());
  return std::move(*chain);
}

// The ids of a plan's steps, in order: "pre-install:a/mid@1", "packages", ...
std::vector<std::string> ids(const proto::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& s : plan.steps) out.push_back(s.id);
  return out;
}

const proto::Step& packages_step(const proto::Plan& plan) {
  for (const auto& s : plan.steps) {
    if (s.kind == "packages") return s;
  }
  FAIL("the plan has no packages step");
  return plan.steps.front();
}

// `sources` with `from` replaced by `to` in the module `name`.
std::map<std::string, std::string> edited(const std::string& name, const std::string& from,
                                          const std::string& to) {
  auto sources = modules();
  auto& text = sources.at(name);
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return sources;
}

}  // namespace

TEST_CASE("a machine of the reference image runs every step of the chain", "[image-chain]") {
  auto plan = chain_of(modules()).plan(0);
  CHECK(ids(plan) == std::vector<std::string>{
                         "pre-install:a/mid@1", "pre-install:a/top@1", "packages",
                         "post-install:a/mid@1", "post-install:a/top@1", "deployment:a/mid@1",
                         "deployment:a/top@1", "report:a/mid@1", "report:a/top@1"});
  CHECK(packages_step(plan).packages == std::vector<std::string>{"curl", "git", "jq"});
}

TEST_CASE("a machine booting a build skips what the build holds, runs every deployment and report",
          "[image-chain]") {
  ImageChain chain = chain_of(modules());

  // A build of base/os and a/mid: a/top's install steps remain, git is
  // already installed (a/mid has it) and is not asked again.
  auto on_mid = chain.plan(2);
  CHECK(ids(on_mid) == std::vector<std::string>{"pre-install:a/top@1", "packages",
                                                "post-install:a/top@1", "deployment:a/mid@1",
                                                "deployment:a/top@1", "report:a/mid@1",
                                                "report:a/top@1"});
  CHECK(packages_step(on_mid).packages == std::vector<std::string>{"jq"});
  CHECK(on_mid.steps[0].body == "top-pre");
  CHECK(on_mid.steps[3].body == "mid-run");

  // A build of the whole chain: nothing is installed, every deployment and report runs.
  auto on_top = chain.plan(3);
  CHECK(ids(on_top) == std::vector<std::string>{"deployment:a/mid@1", "deployment:a/top@1",
                                                "report:a/mid@1", "report:a/top@1"});
  CHECK(on_top.steps[2].state == "SendingReports");
}

TEST_CASE("a build's machine installs what the image adds, then syncs, and deploys nothing",
          "[image-chain]") {
  ImageChain chain = chain_of(modules());

  auto from_mid = chain.build_plan(2);
  REQUIRE(from_mid.steps.size() == 4);
  CHECK(from_mid.steps[0].id == "pre-install:a/top@1");
  CHECK(from_mid.steps[1].packages == std::vector<std::string>{"jq"});
  CHECK(from_mid.steps[2].id == "post-install:a/top@1");
  CHECK(from_mid.steps[3].id == "post-install:sync:a/top@1");
  CHECK(from_mid.steps[3].body.find("sync\n") != std::string::npos);

  auto from_reference = chain.build_plan(1);
  CHECK(ids(from_reference) ==
        std::vector<std::string>{"pre-install:a/mid@1", "pre-install:a/top@1", "packages",
                                 "post-install:a/mid@1", "post-install:a/top@1",
                                 "post-install:sync:a/top@1"});
  CHECK(packages_step(from_reference).packages == std::vector<std::string>{"curl", "git", "jq"});
  for (const auto& step : from_reference.steps) {
    INFO(step.id);
    CHECK(step.name != "deployment");
    CHECK(step.name != "report");
    CHECK(step.state == "Executing");
  }
}

TEST_CASE("a build's hash changes with what its machine installed, and only with that",
          "[image-chain]") {
  const std::string before = chain_of(modules()).build_hash(3);
  CHECK(chain_of(modules()).build_hash(3) == before);  // the same content, the same hash
  CHECK(chain_of(modules()).build_hash(2) != before);

  SECTION("what changes it") {
    for (const auto& [why, sources] :
         std::vector<std::pair<const char*, std::map<std::string, std::string>>>{
             {"a package", edited("a/top", "[git, jq]", "[git, jq, vim]")},
             {"the pre-install", edited("a/top", "top-pre", "top-pre2")},
             {"the post-install", edited("a/top", "top-post", "top-post2")},
             {"the parent's post-install", edited("a/mid", "mid-post", "mid-post2")},
             {"the parent's package", edited("a/mid", "[curl, git]", "[curl]")},
             {"the reference image's reference",
              edited("base/os", "rootfs: host", "rootfs: other")}}) {
      INFO(why);
      CHECK(chain_of(sources).build_hash(3) != before);
    }
  }
  SECTION("what leaves it") {
    for (const auto& [why, sources] :
         std::vector<std::pair<const char*, std::map<std::string, std::string>>>{
             {"a description", edited("a/top", "the top", "the very top")},
             {"the parent's description", edited("a/mid", "the middle", "the centre")},
             {"a parameter", edited("a/top", "default: hi", "default: hello")},
             {"a deployment script", edited("a/top", "top-run", "top-run2")},
             {"the parent's deployment script", edited("a/mid", "mid-run", "mid-run2")},
             {"a report script", edited("a/top", "top-report", "top-report2")}}) {
      INFO(why);
      CHECK(chain_of(sources).build_hash(3) == before);
    }
  }
  SECTION("a build of the parent does not see the child's changes") {
    const std::string parent = chain_of(modules()).build_hash(2);
    CHECK(chain_of(edited("a/top", "top-post", "top-post2")).build_hash(2) == parent);
    CHECK(chain_of(edited("a/mid", "mid-post", "mid-post2")).build_hash(2) != parent);
  }
}
