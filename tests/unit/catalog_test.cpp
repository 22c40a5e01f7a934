#include "controller/catalog/catalog.h"

#include <catch2/catch.hpp>

#include "common/clock.h"
#include "controller/catalog/image_chain.h"
#include "controller/store/store.h"

using namespace slipway;
using namespace slipway::controller;

namespace {

constexpr const char* kBase =
    "kind: image\nname: base/host\nplatform: debian\nreference: {local: {rootfs: host}}\n";

struct Fixture {
  std::unique_ptr<Store> store = Store::open(":memory:").value();
  ManualClock clock;
  Catalog catalog{*store, clock};
  Caller alice = user(1000, "alice");
  Caller bob = user(1001, "bob");

  Fixture() { REQUIRE(catalog.install_builtin(kBase, "base").ok()); }

  static Caller user(uid_t uid, const std::string& name) {
    Caller c;
    c.uid = uid;
    c.gid = uid;
    c.user = name;
    return c;
  }
  Result<std::vector<PushOutcome>> push(const Caller& who,
                                        std::vector<std::pair<std::string, std::string>> files) {
    std::vector<SourceFile> sources;
    for (auto& [path, content] : files) sources.push_back(SourceFile{path, content});
    return catalog.push(who, sources);
  }
};

const char* kDb = R"(kind: image
name: app/db
parent: base/host
packages: [mariadb-server]
parameters:
  inputs: {db_name: {default: app}}
  outputs: [port, password]
scripts:
  deployment: echo db
)";

const char* kWeb = R"(kind: image
name: app/web
parent: base/host
parameters:
  inputs: {db_host: {}, db_password: {}, title: {}}
  outputs: [url]
scripts:
  pre-install: echo pre
  deployment: echo web
  report: echo report
)";

const char* kApp = R"(kind: deployment
name: app
nodes:
  db:
    image: app/db
  web:
    image: app/web
    multiplicity: 2
    inputs:
      db_host: db:hostname
      db_password: db:password
      title: "'Hi'"
)";

}  // namespace

TEST_CASE("modules pushed together may refer to each other, and versions count pushes that change",
          "[catalog]") {
  Fixture f;
  auto pushed = f.push(f.alice, {{"db.yaml", kDb}, {"web.yaml", kWeb}, {"app.yaml", kApp}});
  REQUIRE(pushed.ok());
  CHECK(pushed->size() == 3);
  for (const auto& p : *pushed) {
    CHECK(p.version == 1);
    CHECK(p.created);
  }
  auto again = f.push(f.alice, {{"db.yaml", std::string("# same content\n") + kDb}});
  REQUIRE(again.ok());
  CHECK_FALSE(again->front().created);
  CHECK(again->front().version == 1);

  std::string changed = kDb;
  changed.replace(changed.find("echo db"), 7, "echo db2");
  auto v2 = f.push(f.alice, {{"db.yaml", changed}});
  REQUIRE(v2.ok());
  CHECK(v2->front().version == 2);
  CHECK(f.catalog.get(f.alice, "app/db")->version == 2);
  CHECK(f.catalog.get(f.alice, "app/db@1")->module.image.scripts.at("deployment") == "echo db");
}

TEST_CASE("a push is checked whole: one bad file stores nothing", "[catalog]") {
  Fixture f;
  std::string bad_app = kApp;
  bad_app.replace(bad_app.find("db:password"), 11, "db:passwd");
  auto pushed = f.push(f.alice, {{"db.yaml", kDb}, {"web.yaml", kWeb}, {"app.yaml", bad_app}});
  REQUIRE_FALSE(pushed.ok());
  CHECK(pushed.error().message() ==
        "app.yaml:11: node web: input db_password is mapped to db:passwd, but image app/db has no "
        "output passwd");
  CHECK(f.catalog.get(f.alice, "app/db").error().code() == Code::kNotFound);
}

TEST_CASE("cross-module errors are named with file and line", "[catalog]") {
  Fixture f;
  auto missing_parent = f.push(f.alice, {{"x.yaml", "kind: image\nname: x\nparent: base/nope\n"}});
  REQUIRE_FALSE(missing_parent.ok());
  CHECK(missing_parent.error().message() == "x.yaml:3: parent: no module named base/nope");

  std::string no_mapping = kApp;
  no_mapping.replace(no_mapping.find("      title: \"'Hi'\"\n"),
                     std::string("      title: \"'Hi'\"\n").size(), "");
  auto unmapped = f.push(f.alice, {{"db.yaml", kDb}, {"web.yaml", kWeb}, {"app.yaml", no_mapping}});
  REQUIRE_FALSE(unmapped.ok());
  CHECK(unmapped.error().message() ==
        "app.yaml:6: node web: input title has neither a default nor a mapping");

  std::string unknown_node = kApp;
  unknown_node.replace(unknown_node.find("db:hostname"), 11, "cache:hostname");
  auto node = f.push(f.alice, {{"db.yaml", kDb}, {"web.yaml", kWeb}, {"app.yaml", unknown_node}});
  REQUIRE_FALSE(node.ok());
  CHECK(node.error().message().find("mapped to node cache, which this deployment does not have") !=
        std::string::npos);

  std::string bad_input = kApp;
  bad_input.replace(bad_input.find("      title:"), 12, "      colour:");
  auto input = f.push(f.alice, {{"db.yaml", kDb}, {"web.yaml", kWeb}, {"app.yaml", bad_input}});
  REQUIRE_FALSE(input.ok());
  CHECK(input.error().message().find("image app/web has no input colour") != std::string::npos);
}

TEST_CASE("a cycle in the parent chain is refused", "[catalog]") {
  Fixture f;
  REQUIRE(f.push(f.alice, {{"a.yaml", "kind: image\nname: a\nparent: base/host\n"},
                           {"b.yaml", "kind: image\nname: b\nparent: a\n"}})
              .ok());
  auto cycle = f.push(f.alice, {{"a.yaml", "kind: image\nname: a\nparent: b\n"}});
  REQUIRE_FALSE(cycle.ok());
  CHECK(cycle.error().message().find("a.yaml:3: parent: the parent chain has a cycle") == 0);
}

TEST_CASE("modules are private to their owner until shared", "[catalog]") {
  Fixture f;
  REQUIRE(f.push(f.alice, {{"db.yaml", kDb}}).ok());
  CHECK(f.catalog.get(f.bob, "app/db").error().code() == Code::kNotFound);
  CHECK(f.catalog.list(f.bob)->size() == 1);  // only base/host
  auto steal = f.push(f.bob, {{"db.yaml", kDb}});
  REQUIRE_FALSE(steal.ok());
  CHECK(steal.error().code() == Code::kPermissionDenied);
  CHECK(f.catalog.share(f.bob, "app/db", Visibility::kPublic, "").error().code() ==
        Code::kNotFound);

  REQUIRE(f.catalog.share(f.alice, "app/db", Visibility::kPublic, "").ok());
  CHECK(f.catalog.get(f.bob, "app/db").ok());
  CHECK(f.catalog.remove(f.bob, "app/db").error().code() == Code::kPermissionDenied);
  CHECK(f.catalog.share(f.alice, "app/db", Visibility::kGroup, "no-such-group-here")
            .error()
            .message() == "there is no group named \"no-such-group-here\"");
  REQUIRE(f.catalog.share(f.alice, "app/db", Visibility::kGroup, "root").ok());
  CHECK(f.catalog.get(f.bob, "app/db").error().code() == Code::kNotFound);
  Caller admin = Caller::system();
  CHECK(f.catalog.get(admin, "app/db").ok());
}

TEST_CASE("a module in use cannot be removed, versions are never reused", "[catalog]") {
  Fixture f;
  REQUIRE(f.push(f.alice, {{"db.yaml", kDb}, {"web.yaml", kWeb}, {"app.yaml", kApp}}).ok());
  auto in_use = f.catalog.remove(f.alice, "app/db");
  REQUIRE_FALSE(in_use.ok());
  CHECK(in_use.error().message() == "module app/db is used by app; remove or change that first");
  REQUIRE(f.catalog.remove(f.alice, "app").ok());
  auto removed = f.catalog.remove(f.alice, "app/db");
  REQUIRE(removed.ok());
  CHECK(*removed == std::vector<std::string>{"app/db@1"});
  CHECK(f.catalog.remove(f.alice, "app/db").error().code() == Code::kNotFound);
}

TEST_CASE("an image chain runs parents first and merges parameters", "[catalog]") {
  Fixture f;
  REQUIRE(f.push(f.alice, {{"db.yaml", kDb},
                           {"child.yaml",
                            "kind: image\nname: app/db2\nparent: app/db\npackages: [curl]\n"
                            "parameters: {inputs: {db_name: {default: other}}}\n"
                            "scripts: {pre-install: echo child, deployment: echo child}\n"}})
              .ok());
  auto chain = resolve_image_chain("app/db2", f.catalog.lookup_for(f.alice));
  REQUIRE(chain.ok());
  CHECK(chain->refs() == std::vector<std::string>{"base/host@1", "app/db@1", "app/db2@1"});
  CHECK(chain->platform() == "debian");
  CHECK(chain->packages() == std::vector<std::string>{"mariadb-server", "curl"});
  CHECK(*chain->input("db_name")->default_value == "other");
  proto::Plan plan = chain->plan();
  std::vector<std::string> ids;
  for (const auto& s : plan.steps) ids.push_back(s.id);
  CHECK(ids == std::vector<std::string>{"pre-install:app/db2@1", "packages", "deployment:app/db@1",
                                        "deployment:app/db2@1"});
}

TEST_CASE("only an admin publishes an image that boots from a host path", "[catalog]") {
  Fixture f;
  const std::string on_host =
      "kind: image\nname: alice/raw\nplatform: debian\nreference: {local: {rootfs: /srv/root}}\n";
  const std::string disk =
      "kind: image\nname: alice/disk\nplatform: debian\n"
      "reference: {qemu: {kernel: busybox/vmlinuz, disk: /dev/sda}}\n";
  for (const auto& text : {on_host, disk}) {
    auto refused = f.push(f.alice, {{"m.yaml", text}});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == Code::kPermissionDenied);
    CHECK_THAT(refused.error().message(), Catch::Contains("only an admin"));
  }
  CHECK_FALSE(f.catalog.get(f.alice, "alice/raw").ok());
  // Built images, by name, are anyone's to use.
  CHECK(f.push(f.alice, {{"m.yaml",
                          "kind: image\nname: alice/deb\nplatform: debian\n"
                          "reference: {local: {rootfs: debian-12}}\n"}})
            .ok());
  Caller admin = Caller::system();
  CHECK(f.push(admin, {{"m.yaml", on_host}}).ok());
}

TEST_CASE("visibilities read back from their names, and nothing else does", "[catalog]") {
  for (auto v : {Visibility::kPrivate, Visibility::kGroup, Visibility::kPublic})
    CHECK(parse_visibility(visibility_name(v)).value() == v);
  auto bad = parse_visibility("Public");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == Code::kInvalidArgument);
  CHECK_FALSE(parse_visibility("").ok());
}
