// The image factory's records (ImageBuilds) on a real in-memory store and a
// temporary directory: one build at a time per image and cloud, one ready
// build kept, files that go with their records, freshness, what a
// deployment may boot, recovery at start, damaged rows; and the table's
// own adapter (ImageBuildRows).
#include "controller/catalog/image_builds.h"

#include <catch2/catch.hpp>

#include "common/clock.h"
#include "common/fs.h"
#include "controller/store/image_build_store.h"
#include "controller/store/store.h"
#include "support/temp_dir.h"

using namespace slipway;
using namespace slipway::controller;

namespace {

constexpr const char* kBase =
    "kind: image\nname: base/os\nplatform: debian\nreference: {local: {rootfs: host}}\n";
constexpr const char* kMid = R"(kind: image
name: a/mid
parent: base/os
packages: [curl]
scripts: {post-install: mid-post}
)";
constexpr const char* kTop = R"(kind: image
name: a/top
description: first
parent: a/mid
packages: [jq]
scripts: {post-install: top-post, deployment: top-run}
)";

struct Fixture {
  std::unique_ptr<Store> store = Store::open(":memory:").value();
  ManualClock clock;
  Catalog catalog{*store, clock};
  test::TempDir files;
  ImageBuilds builds{*store, clock, files.path() + "/builds"};
  Caller owner;

  Fixture() {
    owner.uid = 1000;
    owner.user = "alice";
    REQUIRE(catalog.install_builtin(kBase, "base").ok());
    push(kMid);
    push(kTop);
  }
  // Pushes one module; REQUIREs a new version.
  void push(const std::string& yaml) {
    auto pushed = catalog.push(owner, {{"m.yaml", yaml}});
    INFO((pushed.ok() ? "" : pushed.error().message()));
    REQUIRE(pushed.ok());
    REQUIRE(pushed->front().created);
  }
  ImageChain chain(const std::string& image = "a/top") {
    auto c = resolve_image_chain(image, catalog.lookup_for(owner));
    REQUIRE(c.ok());
    return std::move(*c);
  }
  static Value reference(const std::string& rootfs) {
    return Value::object().set("rootfs", rootfs);
  }
  // A build of `image` on `cloud`, begun, run by `deployment` and made ready.
  ImageBuild ready_build(const std::string& image, const std::string& cloud = "local",
                         const std::optional<UsableBuild>& base = std::nullopt,
                         int64_t size = 100) {
    ImageBuild b = begun(image, cloud, "d-" + image, base);
    REQUIRE(builds.ready(b.id, reference(b.dir + "/rootfs"), size).ok());
    clock.advance(1000);
    return *builds.find(b.id).value();
  }
  ImageBuild begun(const std::string& image, const std::string& cloud,
                   const std::string& deployment,
                   const std::optional<UsableBuild>& base = std::nullopt) {
    auto b = builds.begin(chain(image), cloud, base);
    INFO((b.ok() ? "" : b.error().message()));
    REQUIRE(b.ok());
    REQUIRE(builds.attach(b->id, deployment).ok());
    clock.advance(1000);
    return *b;
  }
  std::vector<std::string> ids(const std::string& name) {
    std::vector<std::string> out;
    auto listed = builds.list(name);
    REQUIRE(listed.ok());
    for (const auto& b : *listed) out.push_back(b.id);
    return out;
  }
  bool fresh(const ImageBuild& b, const ImageChain& c) {
    auto r = builds.fresh(*builds.find(b.id).value(), c);
    REQUIRE(r.ok());
    return *r;
  }
};

}  // namespace

TEST_CASE("a build is begun with an empty directory, and one at a time per image and cloud",
          "[image-builds]") {
  Fixture f;
  ImageBuild first = f.begun("a/top", "local", "d-17");
  CHECK(first.state == BuildState::kBuilding);
  CHECK(first.ref() == "a/top@1");
  CHECK(first.depth == 3);
  CHECK(first.hash == f.chain().build_hash(3));
  CHECK(fs::exists(first.dir));
  CHECK(fs::list_dir(first.dir).value().empty());
  CHECK(first.dir.rfind(f.builds.root() + "/", 0) == 0);

  auto again = f.builds.begin(f.chain(), "local", std::nullopt);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code() == Code::kAlreadyExists);
  CHECK_THAT(again.error().message(), Catch::Contains("deployment d-17"));
  CHECK(f.ids("a/top").size() == 1);  // nothing was recorded

  auto elsewhere = f.builds.begin(f.chain(), "qemu", std::nullopt);
  CHECK(elsewhere.ok());
  // Another image on the same cloud is no conflict either.
  CHECK(f.builds.begin(f.chain("a/mid"), "local", std::nullopt).ok());
}

TEST_CASE("a ready build replaces the older one of its image and cloud, files and all",
          "[image-builds]") {
  Fixture f;
  ImageBuild old = f.ready_build("a/top");
  ImageBuild other_cloud = f.ready_build("a/top", "qemu");
  ImageBuild failed = f.begun("a/top", "local", "d-2");
  REQUIRE(f.builds.failed(failed.id, "boom").ok());
  ImageBuild fresh = f.ready_build("a/top", "local", std::nullopt, 4096);

  CHECK(fresh.state == BuildState::kReady);
  CHECK(fresh.reference == Fixture::reference(fresh.dir + "/rootfs"));
  CHECK(fresh.size_bytes == 4096);
  CHECK(fresh.finished_at > fresh.created_at);
  CHECK_FALSE(f.builds.find(old.id).value().has_value());
  CHECK_FALSE(fs::exists(old.dir));
  CHECK_FALSE(f.builds.find(failed.id).value().has_value());
  CHECK(fs::exists(fresh.dir));
  // The other cloud's build is untouched.
  CHECK(f.builds.find(other_cloud.id).value().has_value());
  CHECK(fs::exists(other_cloud.dir));
  CHECK(f.builds.bytes().value() == 4096 + 100);
}

TEST_CASE("a failed build loses its files and keeps its record with the reason", "[image-builds]") {
  Fixture f;
  ImageBuild b = f.begun("a/top", "local", "d-1");
  REQUIRE(fs::write_file_atomic(b.dir + "/disk", "half a disk", 0600).ok());
  REQUIRE(f.builds.failed(b.id, "post-install of a/top@1 exited with 1").ok());

  CHECK_FALSE(fs::exists(b.dir));
  auto after = f.builds.find(b.id).value();
  REQUIRE(after);
  CHECK(after->state == BuildState::kFailed);
  CHECK(after->error == "post-install of a/top@1 exited with 1");
  CHECK(after->finished_at > 0);
  CHECK(after->reference.is_null());
  CHECK(f.builds.bytes().value() == 0);
  // A failed build is no conflict for the next one.
  CHECK(f.builds.begin(f.chain(), "local", std::nullopt).ok());
  // Nor is a second failure of a failed build recorded over the first.
  REQUIRE(f.builds.failed(b.id, "again").ok());
  CHECK(f.builds.find(b.id).value()->error == "post-install of a/top@1 exited with 1");
}

TEST_CASE("a build is fresh while what it installed is what the image asks", "[image-builds]") {
  Fixture f;
  ImageBuild b = f.ready_build("a/top");
  CHECK(f.fresh(b, f.chain()));

  // A newer version that changes only the description asks the same.
  f.push(std::string(kTop).replace(std::string(kTop).find("first"), 5, "second"));
  REQUIRE(f.chain().image().version == 2);
  CHECK(f.fresh(b, f.chain()));
  // So does one that changes only a deployment script.
  f.push(std::string(kTop).replace(std::string(kTop).find("top-run"), 7, "top-run2"));
  CHECK(f.fresh(b, f.chain()));

  // A changed post-install does not.
  f.push(std::string(kTop).replace(std::string(kTop).find("top-post"), 8, "top-post2"));
  CHECK_FALSE(f.fresh(b, f.chain()));
  // Nor does a changed parent.
  Fixture g;
  ImageBuild gb = g.ready_build("a/top");
  g.push(std::string(kMid).replace(std::string(kMid).find("[curl]"), 6, "[curl, git]"));
  CHECK_FALSE(g.fresh(gb, g.chain()));

  // A build that is not ready is never fresh.
  Fixture h;
  ImageBuild running = h.begun("a/top", "local", "d-1");
  CHECK_FALSE(h.fresh(running, h.chain()));
}

TEST_CASE("a child built on its parent's build is stale once that build is replaced or removed",
          "[image-builds]") {
  Fixture f;
  ImageBuild mid = f.ready_build("a/mid");
  auto base = f.builds.usable(f.chain(), 2, "local").value();
  REQUIRE(base);
  CHECK(base->id == mid.id);
  ImageBuild top = f.ready_build("a/top", "local", base);
  CHECK(top.base == mid.id);
  CHECK(f.fresh(top, f.chain()));

  SECTION("replaced") {
    f.ready_build("a/mid");  // the same content, a new build
    CHECK_FALSE(f.fresh(top, f.chain()));
  }
  SECTION("removed") {
    REQUIRE(f.builds.remove("a/mid", "").ok());
    CHECK_FALSE(f.fresh(top, f.chain()));
  }
  SECTION("its parent changed") {
    f.push(std::string(kMid).replace(std::string(kMid).find("mid-post"), 8, "mid-post2"));
    CHECK_FALSE(f.fresh(top, f.chain()));
  }
}

TEST_CASE("a deployment boots the deepest fresh build the limit allows", "[image-builds]") {
  Fixture f;
  CHECK_FALSE(f.builds.usable(f.chain(), 3, "local").value().has_value());

  ImageBuild mid = f.ready_build("a/mid");
  ImageBuild top = f.ready_build("a/top");

  auto deepest = f.builds.usable(f.chain(), 3, "local").value();
  REQUIRE(deepest);
  CHECK(deepest->id == top.id);
  CHECK(deepest->image == "a/top@1");
  CHECK(deepest->depth == 3);
  CHECK(deepest->reference == top.reference);

  auto limited = f.builds.usable(f.chain(), 2, "local").value();
  REQUIRE(limited);
  CHECK(limited->id == mid.id);
  CHECK(limited->depth == 2);
  CHECK_FALSE(f.builds.usable(f.chain(), 1, "local").value().has_value());  // no reference build
  CHECK_FALSE(f.builds.usable(f.chain(), 3, "qemu").value().has_value());

  // A stale top build falls back to the parent's.
  f.push(std::string(kTop).replace(std::string(kTop).find("top-post"), 8, "top-post2"));
  auto fallback = f.builds.usable(f.chain(), 3, "local").value();
  REQUIRE(fallback);
  CHECK(fallback->id == mid.id);

  // A running or failed build is never booted.
  Fixture g;
  ImageBuild running = g.begun("a/mid", "local", "d-1");
  CHECK_FALSE(g.builds.usable(g.chain(), 3, "local").value().has_value());
  REQUIRE(g.builds.failed(running.id, "boom").ok());
  CHECK_FALSE(g.builds.usable(g.chain(), 3, "local").value().has_value());
}

TEST_CASE("removing builds refuses while one runs and takes their files otherwise",
          "[image-builds]") {
  Fixture f;
  ImageBuild local = f.ready_build("a/top");
  ImageBuild running = f.begun("a/top", "qemu", "d-9");

  auto refused = f.builds.remove("a/top", "");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == Code::kFailedPrecondition);
  CHECK_THAT(refused.error().message(), Catch::Contains("d-9"));
  CHECK(f.ids("a/top").size() == 2);  // nothing was removed
  CHECK(fs::exists(local.dir));

  // Limited to the other cloud, nothing runs.
  auto removed = f.builds.remove("a/top", "local");
  REQUIRE(removed.ok());
  REQUIRE(removed->size() == 1);
  CHECK(removed->front().id == local.id);
  CHECK_FALSE(fs::exists(local.dir));
  CHECK(f.ids("a/top") == std::vector<std::string>{running.id});

  CHECK(f.builds.remove("a/mid", "").value().empty());  // none: not an error here
}

TEST_CASE("removing an image version removes its builds that are not running", "[image-builds]") {
  Fixture f;
  ImageBuild v1 = f.ready_build("a/top", "local");
  ImageBuild v1_running = f.begun("a/top", "qemu", "d-5");
  f.push(std::string(kTop).replace(std::string(kTop).find("first"), 5, "second"));
  ImageBuild v2 = f.ready_build("a/top", "other");
  REQUIRE(v2.version == 2);
  ImageBuild mid = f.ready_build("a/mid");

  auto removed = f.builds.remove_version("a/top", 1);
  REQUIRE(removed.ok());
  REQUIRE(removed->size() == 1);
  CHECK(removed->front().id == v1.id);
  CHECK_FALSE(fs::exists(v1.dir));
  CHECK(f.builds.find(v1_running.id).value().has_value());
  CHECK(f.builds.find(v2.id).value().has_value());
  CHECK(f.builds.find(mid.id).value().has_value());
  CHECK(fs::exists(v2.dir));
}

TEST_CASE("at start, builds whose run is over fail and directories no build owns go",
          "[image-builds]") {
  Fixture f;
  ImageBuild ready = f.ready_build("a/mid");
  ImageBuild orphan = f.begun("a/top", "local", "d-gone");
  ImageBuild live = f.begun("a/top", "qemu", "d-live");
  ImageBuild failed = f.begun("a/top", "other", "d-3");
  REQUIRE(f.builds.failed(failed.id, "boom").ok());
  REQUIRE(fs::make_dirs(failed.dir, 0700).ok());  // left behind
  REQUIRE(fs::make_dirs(f.builds.root() + "/stray", 0700).ok());

  REQUIRE(f.builds.recover({"d-live"}).ok());

  auto orphan_after = f.builds.find(orphan.id).value();
  REQUIRE(orphan_after);
  CHECK(orphan_after->state == BuildState::kFailed);
  CHECK_FALSE(orphan_after->error.empty());
  CHECK_FALSE(fs::exists(orphan.dir));
  CHECK(f.builds.find(live.id).value()->state == BuildState::kBuilding);
  CHECK(fs::exists(live.dir));
  CHECK(f.builds.find(ready.id).value()->state == BuildState::kReady);
  CHECK(fs::exists(ready.dir));
  CHECK_FALSE(fs::exists(failed.dir));
  CHECK_FALSE(fs::exists(f.builds.root() + "/stray"));
  CHECK(f.builds.find(failed.id).value()->error == "boom");

  // With no root at all there is nothing to clean.
  Fixture g;
  CHECK(g.builds.recover({}).ok());
}

TEST_CASE("a replaced build's files stay while live machines boot from them, then go",
          "[image-builds]") {
  Fixture f;
  ImageBuild old = f.ready_build("a/top");
  std::set<std::string> booted = {old.dir};
  f.builds.set_in_use([&] { return booted; });
  // The reference a node of a live deployment holds names the directory.
  CHECK(f.builds.dirs_named_in(Value::object().set(
            "layers", Value::array().push(old.dir + "/layer.ext4").push("/elsewhere/l.ext4"))) ==
        std::set<std::string>{old.dir});

  ImageBuild fresh = f.ready_build("a/top");
  CHECK_FALSE(f.builds.find(old.id).value().has_value());  // its record goes at once
  CHECK(fs::exists(old.dir));                             // its files do not
  REQUIRE(f.builds.collect().ok());
  CHECK(fs::exists(old.dir));

  booted.clear();  // the run that booted it is over
  REQUIRE(f.builds.collect().ok());
  CHECK_FALSE(fs::exists(old.dir));
  CHECK(fs::exists(fresh.dir));
}

TEST_CASE("a damaged build record is left out of the list, the others are shown",
          "[image-builds]") {
  Fixture f;
  ImageBuild good = f.ready_build("a/top");
  ImageBuildRows rows(*f.store);
  ImageBuildRow bad_state;
  bad_state.id = "bad-state";
  bad_state.name = "a/top";
  bad_state.version = 1;
  bad_state.cloud = "qemu";
  bad_state.state = "half-done";
  REQUIRE(rows.insert(bad_state).ok());
  ImageBuildRow bad_reference = bad_state;
  bad_reference.id = "bad-reference";
  bad_reference.cloud = "other";
  bad_reference.state = "ready";
  bad_reference.reference = std::string("\xc1", 1);  // a byte msgpack never uses
  REQUIRE(rows.insert(bad_reference).ok());

  CHECK(f.ids("a/top") == std::vector<std::string>{good.id});
  CHECK(f.ids("") == std::vector<std::string>{good.id});
  auto found = f.builds.find("bad-state");
  REQUIRE_FALSE(found.ok());
  CHECK_THAT(found.error().message(), Catch::Contains("damaged"));
  CHECK_FALSE(f.builds.find("bad-reference").ok());
  // Damaged rows do not stop the others from being booted or counted.
  CHECK(f.builds.usable(f.chain(), 3, "local").value().has_value());
  CHECK(f.builds.bytes().value() == 100);
}

TEST_CASE("build states are named as stored, and other text is refused", "[image-builds]") {
  for (BuildState s : {BuildState::kBuilding, BuildState::kReady, BuildState::kFailed}) {
    CHECK(parse_build_state(build_state_name(s)).value() == s);
  }
  CHECK(std::string(build_state_name(BuildState::kReady)) == "ready");
  CHECK(parse_build_state("Ready").error().code() == Code::kInvalidArgument);
  CHECK(parse_build_state("").error().code() == Code::kInvalidArgument);
}

TEST_CASE("image build rows keep every column and list by name, cloud, newest first",
          "[image-builds][store]") {
  std::unique_ptr<Store> store = Store::open(":memory:").value();
  ImageBuildRows rows(*store);
  ImageBuildRow row;
  row.id = "b1";
  row.name = "a/top";
  row.version = 3;
  row.cloud = "local";
  row.state = "ready";
  row.hash = "abc";
  row.base = "b0";
  row.depth = 3;
  row.deployment = "d-1";
  row.reference = Value::object().set("rootfs", "/x").pack();
  row.dir = "/data/builds/b1";
  row.size_bytes = int64_t{5} << 32;
  row.created_at = 1000;
  row.finished_at = 2000;
  row.error = "none";
  REQUIRE(rows.insert(row).ok());
  CHECK(rows.insert(row).error().code() == Code::kAlreadyExists);

  auto read = rows.find("b1").value();
  REQUIRE(read);
  CHECK(read->id == row.id);
  CHECK(read->name == row.name);
  CHECK(read->version == row.version);
  CHECK(read->cloud == row.cloud);
  CHECK(read->state == row.state);
  CHECK(read->hash == row.hash);
  CHECK(read->base == row.base);
  CHECK(read->depth == row.depth);
  CHECK(read->deployment == row.deployment);
  CHECK(read->reference == row.reference);
  CHECK(read->dir == row.dir);
  CHECK(read->size_bytes == row.size_bytes);
  CHECK(read->created_at == row.created_at);
  CHECK(read->finished_at == row.finished_at);
  CHECK(read->error == row.error);
  CHECK_FALSE(rows.find("nope").value().has_value());

  row.state = "failed";
  row.error = "gone";
  REQUIRE(rows.update(row).ok());
  CHECK(rows.find("b1").value()->error == "gone");
  ImageBuildRow missing = row;
  missing.id = "nope";
  CHECK(rows.update(missing).ok());  // changes nothing
  CHECK_FALSE(rows.find("nope").value().has_value());

  auto add = [&](const std::string& id, const std::string& name, const std::string& cloud,
                 int64_t created) {
    ImageBuildRow r;
    r.id = id;
    r.name = name;
    r.cloud = cloud;
    r.state = "building";
    r.created_at = created;
    REQUIRE(rows.insert(r).ok());
  };
  add("b2", "a/top", "local", 3000);
  add("b3", "a/top", "aws", 500);
  add("b4", "a/mid", "local", 100);
  auto order = [&](const std::string& name) {
    auto listed = rows.list(name);
    REQUIRE(listed.ok());
    std::vector<std::string> out;
    for (const auto& r : *listed) out.push_back(r.id);
    return out;
  };
  CHECK(order("") == std::vector<std::string>{"b4", "b3", "b2", "b1"});
  CHECK(order("a/top") == std::vector<std::string>{"b3", "b2", "b1"});
  CHECK(rows.list("a/t").value().empty());  // a name, not a prefix

  REQUIRE(rows.remove("b1").ok());
  CHECK(rows.remove("b1").ok());
  CHECK_FALSE(rows.find("b1").value().has_value());
}
