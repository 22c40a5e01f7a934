#include "common/value.h"

#include <catch2/catch.hpp>

using namespace slipway;

TEST_CASE("values survive msgpack and keep their field order", "[value]") {
  Value v = Value::object()
                .set("zeta", 1)
                .set("alpha", "text")
                .set("list", Value::array().push(true).push(Value()).push(2.5))
                .set("nested", Value::object().set("n", -7));
  auto back = Value::unpack(v.pack());
  REQUIRE(back.ok());
  CHECK(*back == v);
  CHECK(back->fields().front().first == "zeta");
  CHECK((*back)["nested"]["n"].as_int() == -7);
  CHECK((*back)["missing"].is_null());
}

TEST_CASE("JSON output escapes control characters and repairs bad UTF-8", "[value]") {
  Value v = Value::object().set("s", std::string("a\"b\\c\n\x01\xff\xc3\xa9", 10));
  CHECK(v.to_json() == "{\"s\":\"a\\\"b\\\\c\\n\\u0001\xEF\xBF\xBD\xC3\xA9\"}");
}

TEST_CASE("JSON pretty printing indents nested values", "[value]") {
  Value v = Value::object().set("a", Value::array().push(1).push(2)).set("b", Value::object());
  CHECK(v.to_json_pretty() == "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}");
}

TEST_CASE("unpacking garbage gives an error, not a crash", "[value]") {
  CHECK_FALSE(Value::unpack("").ok());
  CHECK_FALSE(Value::unpack("\xc1").ok());
  CHECK_FALSE(Value::unpack(std::string("\x81\x01\x02", 3)).ok());  // non-string key
  CHECK_FALSE(Value::unpack(std::string("\xdf\xff\xff\xff\xff", 5)).ok());
}

TEST_CASE("a double with an integral value stays a double through msgpack", "[value]") {
  Value v = Value::object().set("f", 163840.0).set("nan_is_null_in_json", 0.0 / 0.0);
  auto back = Value::unpack(v.pack());
  REQUIRE(back.ok());
  CHECK((*back)["f"].is_double());
  CHECK((*back)["f"].as_double() == 163840.0);
  CHECK(back->to_json().find("null") != std::string::npos);
}
