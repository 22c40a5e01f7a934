// A dynamic value (null, bool, integer, float, string, array, object) for the
// control protocol between `slipway` and `slipwayd`: packed as msgpack on the
// wire, printed as JSON by `slipway --json`. Objects keep insertion order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace slipway {

class Value {
 public:
  using Array = std::vector<Value>;
  using Object = std::vector<std::pair<std::string, Value>>;

  Value() = default;
  Value(std::nullptr_t) {}                               // NOLINT
  Value(bool b) : data_(b) {}                            // NOLINT
  Value(int i) : data_(static_cast<int64_t>(i)) {}       // NOLINT
  Value(int64_t i) : data_(i) {}                         // NOLINT
  Value(uint64_t i) : data_(static_cast<int64_t>(i)) {}  // NOLINT
  Value(double d) : data_(d) {}                          // NOLINT
  Value(std::string s) : data_(std::move(s)) {}          // NOLINT
  Value(std::string_view s) : data_(std::string(s)) {}   // NOLINT
  Value(const char* s) : data_(std::string(s)) {}        // NOLINT
  Value(Array a) : data_(std::move(a)) {}                // NOLINT
  Value(Object o) : data_(std::move(o)) {}               // NOLINT

  static Value object() { return Value(Object{}); }
  static Value array() { return Value(Array{}); }

  bool is_null() const { return data_.index() == 0; }
  bool is_bool() const { return data_.index() == 1; }
  bool is_int() const { return data_.index() == 2; }
  bool is_double() const { return data_.index() == 3; }
  bool is_string() const { return data_.index() == 4; }
  bool is_array() const { return data_.index() == 5; }
  bool is_object() const { return data_.index() == 6; }

  bool as_bool(bool fallback = false) const;
  int64_t as_int(int64_t fallback = 0) const;
  double as_double(double fallback = 0) const;
  // The string, or `fallback` when this is not a string.
  std::string as_string(const std::string& fallback = "") const;
  const std::string& str() const;  // empty when not a string

  const Array& items() const;    // empty when not an array
  const Object& fields() const;  // empty when not an object

  // The field `key` of an object; a null Value when absent or not an object.
  const Value& operator[](std::string_view key) const;
  bool has(std::string_view key) const;

  // Sets field `key` (replacing an existing one); turns a null into an object.
  Value& set(std::string key, Value value);
  // Appends to an array; turns a null into an array.
  Value& push(Value value);

  // Compact JSON (valid UTF-8 whatever the strings hold: bad bytes become U+FFFD).
  std::string to_json() const;
  // Indented JSON for humans.
  std::string to_json_pretty() const;

  std::string pack() const;
  // Decodes one msgpack value; limits as mp::unpack().
  static Result<Value> unpack(std::string_view bytes);

  bool operator==(const Value& other) const { return data_ == other.data_; }

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> data_;
};

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view text);

// Appends `text` to `out` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text);

}  // namespace slipway
