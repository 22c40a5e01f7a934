#include "controller/catalog/module.h"

#include <catch2/catch.hpp>

using namespace slipway;
using namespace slipway::controller;

namespace {
std::string error_of(const std::string& yaml) {
  auto m = parse_module(yaml, "m.yaml");
  REQUIRE_FALSE(m.ok());
  return m.error().message();
}
}  // namespace

TEST_CASE("an image module is parsed with everything SPEC section 2 allows", "[module]") {
  auto m = parse_module(R"(kind: image
name: examples/lamp/db
description: MariaDB
parent: base/debian-12@2
packages: [mariadb-server, curl]
scripts:
  pre-install: echo pre
  deployment: |
    ss-set ready true
parameters:
  inputs:  {db_name: {default: app}, admin: {}}
  outputs: [port, user, password, ready]
resources: {cpus: 2, memory_mb: 1024, disk_gb: 8}
)",
                        "db.yaml");
  REQUIRE(m.ok());
  CHECK(m->kind == ModuleKind::kImage);
  CHECK(m->image.parent == "base/debian-12@2");
  CHECK(m->image.packages == std::vector<std::string>{"mariadb-server", "curl"});
  CHECK(m->image.scripts.at("deployment") == "ss-set ready true\n");
  REQUIRE(m->image.inputs.size() == 2);
  CHECK(*m->image.inputs[0].default_value == "app");
  CHECK_FALSE(m->image.inputs[1].default_value.has_value());
  CHECK(m->image.outputs.size() == 4);
  CHECK(*m->image.memory_mb == 1024);
}

TEST_CASE("a deployment module maps inputs to outputs and quoted literals", "[module]") {
  auto m = parse_module(R"(kind: deployment
name: examples/lamp
nodes:
  db:
    image: examples/lamp/db
  web:
    image: examples/lamp/web
    multiplicity: 2
    cloud: local
    max-provisioning-failures: 1
    inputs:
      db_host: db:hostname
      db_port: db.1:port
      title: "'Hello LAMP'"
)",
                        "lamp.yaml");
  REQUIRE(m.ok());
  const NodeDefinition* web = m->node("web");
  REQUIRE(web != nullptr);
  CHECK(web->multiplicity == 2);
  CHECK(web->max_provisioning_failures == 1);
  CHECK(web->inputs.at("db_host").node == "db");
  CHECK(web->inputs.at("db_host").parameter == "hostname");
  CHECK(web->inputs.at("db_port").instance == "1");
  CHECK(web->inputs.at("title").literal);
  CHECK(web->inputs.at("title").value == "Hello LAMP");
}

TEST_CASE("module errors name the file, the line and what is wrong", "[module]") {
  CHECK(error_of("kind: image\nname: a/b\nparent: base/host\nflavour: x\n") ==
        "m.yaml:4: unknown key \"flavour\" in an image module");
  CHECK(error_of("kind: image\nname: a/b\nparent: base/host\npackages: curl\n") ==
        "m.yaml:4: packages must be a list");
  CHECK(error_of("kind: image\nname: a/b\nparent: base/host\nscripts:\n  deploy: x\n") ==
        "m.yaml:5: unknown key \"deploy\" in scripts");
  CHECK(error_of("kind: image\nname: Bad Name\n")
            .find("m.yaml:2: \"Bad Name\" is not a module name") == 0);
  CHECK(error_of("kind: machine\nname: a\n") ==
        "m.yaml:1: kind must be image or deployment, not \"machine\"");
  CHECK(error_of("name: a\n").find("has no kind") != std::string::npos);
  CHECK(error_of("kind: image\nname: a/b\n").find("needs a reference") != std::string::npos);
  CHECK(error_of("kind: image\nname: a/b\nreference: {local: {rootfs: host}}\n")
            .find("needs a platform") != std::string::npos);
  CHECK(error_of("kind: image\nname: a/b\nparent: a/b\n") ==
        "m.yaml:3: an image cannot be its own parent");
  CHECK(error_of(
            "kind: deployment\nname: d\nnodes:\n  web:\n    image: w\n    multiplicity: lots\n") ==
        "m.yaml:6: multiplicity must be an integer, not \"lots\"");
  CHECK(
      error_of(
          "kind: deployment\nname: d\nnodes:\n  web:\n    image: w\n    inputs:\n      t: Hello\n")
          .find("m.yaml:7: input t: write a literal in single quotes") == 0);
  CHECK(error_of("kind: deployment\nname: d\nnodes:\n  Web:\n    image: w\n")
            .find("is not a node name") != std::string::npos);
  CHECK(error_of("kind: deployment\nname: d\nnodes:\n  w:\n    image: w\n    multiplicity: 2\n"
                 "    max-provisioning-failures: 2\n")
            .find("less than the multiplicity") != std::string::npos);
  CHECK(
      error_of("kind: image\nname: a/b\nparent: base/host\nparameters:\n  outputs: [hostname]\n") ==
      "m.yaml:5: hostname is a built-in parameter");
  CHECK(error_of("kind: image\nname: [a\n").find("m.yaml:") == 0);
  CHECK(error_of(std::string(300 << 10, '#')).find("at most 256 KiB") != std::string::npos);
}

TEST_CASE("the canonical form ignores layout but not content", "[module]") {
  auto a = parse_module("kind: image\nname: a/b\nparent: base/host\npackages: [x, y]\n", "a");
  auto b = parse_module(
      "# a comment\nkind: image\nname: a/b\nparent: base/host\npackages:\n  - x\n  - y\n", "b");
  auto c = parse_module("kind: image\nname: a/b\nparent: base/host\npackages: [y, x]\n", "c");
  CHECK(a->canonical() == b->canonical());
  CHECK_FALSE(a->canonical() == c->canonical());
}

TEST_CASE("names and references are checked", "[module]") {
  CHECK(valid_module_name("examples/lamp/db"));
  CHECK_FALSE(valid_module_name("/x"));
  CHECK_FALSE(valid_module_name("a//b"));
  CHECK_FALSE(valid_module_name("A"));
  auto ref = split_reference("base/host@12");
  REQUIRE(ref.ok());
  CHECK(ref->name == "base/host");
  CHECK(ref->version == 12);
  CHECK(split_reference("base/host").value().version == 0);
  CHECK_FALSE(split_reference("base/host@0").ok());
  CHECK_FALSE(split_reference("base/host@").ok());
  CHECK(split_reference("base/host@x").error().message() ==
        "\"base/host@x\" is not NAME or NAME@VERSION");
  CHECK(valid_parameter_name("url.service"));
  CHECK_FALSE(valid_parameter_name("a b"));
  CHECK(valid_node_name("web-2"));
  CHECK_FALSE(valid_node_name("web.2"));
}

TEST_CASE("a module too large or too deep is refused, not expanded", "[module]") {
  // Aliases repeat one list many times; expanded it would be far larger than the text.
  std::string bomb =
      "kind: image\nname: a/b\nreference:\n  local:\n    x0: &a [q, q, q, q, q, q, q, q]\n    x1: "
      "[";
  for (int i = 0; i < 400; ++i) bomb += "*a, ";
  bomb += "*a]\n";
  CHECK_THAT(error_of(bomb), Catch::Contains("too large"));

  std::string packages = "kind: image\nname: a/b\nparent: base/host\npackages:\n";
  for (int i = 0; i < 1100; ++i) packages += "  - p" + std::to_string(i) + "\n";
  CHECK_THAT(error_of(packages), Catch::Contains("at most"));

  std::string deep = "kind: image\nname: a/b\nreference: {local: {k: ";
  for (int i = 0; i < 50; ++i) deep += "[";
  for (int i = 0; i < 50; ++i) deep += "]";
  CHECK_THAT(error_of(deep + "}}\n"), Catch::Contains("too deep"));
}

TEST_CASE("an instance number in a mapping has at most four digits", "[module]") {
  auto text = [](const std::string& ref) {
    return "kind: deployment\nname: a/d\nnodes:\n  db: {image: a/db}\n  web:\n    image: a/web\n"
           "    inputs: {dbhost: " +
           ref + "}\n";
  };
  REQUIRE(parse_module(text("db.9999:hostname"), "m.yaml").ok());
  CHECK_THAT(error_of(text("db.99999999999999999999:hostname")), Catch::Contains("m.yaml"));
}
