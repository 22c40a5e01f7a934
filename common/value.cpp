#include "common/value.h"

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <msgpack.hpp>

#include "common/msgpack_util.h"

namespace slipway {
namespace {

const Value kNull;
const std::string kEmptyString;
const Value::Array kEmptyArray;
const Value::Object kEmptyObject;

// Length of the valid UTF-8 sequence at the start of `s`, or 0.
size_t utf8_sequence(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || len > s.size()) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
  }
  uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
  for (size_t i = 1; i < len; ++i) cp = (cp << 6) | (b(i) & 0x3F);
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void write_json(std::string& out, const Value& v, int indent, int depth) {
  auto newline = [&](int d) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent * d), ' ');
  };
  if (v.is_null()) {
    out += "null";
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_int()) {
    out += std::to_string(v.as_int());
  } else if (v.is_double()) {
    double d = v.as_double();
    if (!std::isfinite(d)) {
      out += "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      out += buf;
    }
  } else if (v.is_string()) {
    append_json_string(out, v.str());
  } else if (v.is_array()) {
    if (v.items().empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const auto& item : v.items()) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      write_json(out, item, indent, depth + 1);
    }
    newline(depth);
    out += ']';
  } else {
    if (v.fields().empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& [key, item] : v.fields()) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      append_json_string(out, key);
      out += indent < 0 ? ":" : ": ";
      write_json(out, item, indent, depth + 1);
    }
    newline(depth);
    out += '}';
  }
}

// msgpack-c packs a double with an integral value as an integer; a Value
// keeps its type, so doubles are written as float64 by hand.
void pack_float64(msgpack::sbuffer& buffer, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  char out[9];
  out[0] = static_cast<char>(0xcb);
  for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xFF);
  buffer.write(out, sizeof out);
}

void pack_value(msgpack::sbuffer& buffer, msgpack::packer<msgpack::sbuffer>& p, const Value& v) {
  if (v.is_null()) {
    p.pack_nil();
  } else if (v.is_bool()) {
    p.pack(v.as_bool());
  } else if (v.is_int()) {
    p.pack(v.as_int());
  } else if (v.is_double()) {
    pack_float64(buffer, v.as_double());
  } else if (v.is_string()) {
    p.pack(v.str());
  } else if (v.is_array()) {
    p.pack_array(static_cast<uint32_t>(v.items().size()));
    for (const auto& item : v.items()) pack_value(buffer, p, item);
  } else {
    p.pack_map(static_cast<uint32_t>(v.fields().size()));
    for (const auto& [key, item] : v.fields()) {
      p.pack(key);
      pack_value(buffer, p, item);
    }
  }
}

Result<Value> from_object(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return Value();
    case msgpack::type::BOOLEAN:
      return Value(o.via.boolean);
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<uint64_t>(INT64_MAX)) {
        return Error(Code::kProtocol, "integer out of range");
      }
      return Value(static_cast<int64_t>(o.via.u64));
    case msgpack::type::NEGATIVE_INTEGER:
      return Value(o.via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return Value(o.via.f64);
    case msgpack::type::STR:
      return Value(std::string(o.via.str.ptr, o.via.str.size));
    case msgpack::type::BIN:
      return Value(std::string(o.via.bin.ptr, o.via.bin.size));
    case msgpack::type::ARRAY: {
      Value::Array items;
      items.reserve(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        SLIPWAY_ASSIGN_OR_RETURN(Value item, from_object(o.via.array.ptr[i]));
        items.push_back(std::move(item));
      }
      return Value(std::move(items));
    }
    case msgpack::type::MAP: {
      Value::Object fields;
      fields.reserve(o.via.map.size);
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        std::string key;
        if (!mp::get_string(o.via.map.ptr[i].key, &key)) {
          return Error(Code::kProtocol, "map key is not a string");
        }
        SLIPWAY_ASSIGN_OR_RETURN(Value item, from_object(o.via.map.ptr[i].val));
        fields.emplace_back(std::move(key), std::move(item));
      }
      return Value(std::move(fields));
    }
    default:
      return Error(Code::kProtocol, "unsupported msgpack type");
  }
}

}  // namespace

bool Value::as_bool(bool fallback) const {
  return is_bool() ? std::get<bool>(data_) : fallback;
}
int64_t Value::as_int(int64_t fallback) const {
  if (is_int()) return std::get<int64_t>(data_);
  if (is_double()) {
    // Casting a double out of int64's range (or NaN) is undefined: clamp.
    double d = std::get<double>(data_);
    if (std::isnan(d)) return fallback;
    if (d >= 9.2233720368547758e18) return INT64_MAX;
    if (d <= -9.2233720368547758e18) return INT64_MIN;
    return static_cast<int64_t>(d);
  }
  return fallback;
}
double Value::as_double(double fallback) const {
  if (is_double()) return std::get<double>(data_);
  if (is_int()) return static_cast<double>(std::get<int64_t>(data_));
  return fallback;
}
std::string Value::as_string(const std::string& fallback) const {
  return is_string() ? std::get<std::string>(data_) : fallback;
}
const std::string& Value::str() const {
  return is_string() ? std::get<std::string>(data_) : kEmptyString;
}
const Value::Array& Value::items() const {
  return is_array() ? std::get<Array>(data_) : kEmptyArray;
}
const Value::Object& Value::fields() const {
  return is_object() ? std::get<Object>(data_) : kEmptyObject;
}

const Value& Value::operator[](std::string_view key) const {
  for (const auto& [k, v] : fields()) {
    if (k == key) return v;
  }
  return kNull;
}

bool Value::has(std::string_view key) const {
  for (const auto& field : fields()) {
    if (field.first == key) return true;
  }
  return false;
}

Value& Value::set(std::string key, Value value) {
  if (!is_object()) data_ = Object{};
  auto& object = std::get<Object>(data_);
  for (auto& [k, v] : object) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  object.emplace_back(std::move(key), std::move(value));
  return *this;
}

Value& Value::push(Value value) {
  if (!is_array()) data_ = Array{};
  std::get<Array>(data_).push_back(std::move(value));
  return *this;
}

std::string Value::to_json() const {
  std::string out;
  write_json(out, *this, -1, 0);
  return out;
}

std::string Value::to_json_pretty() const {
  std::string out;
  write_json(out, *this, 2, 0);
  return out;
}

std::string Value::pack() const {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  pack_value(buffer, p, *this);
  return std::string(buffer.data(), buffer.size());
}

Result<Value> Value::unpack(std::string_view bytes) {
  SLIPWAY_ASSIGN_OR_RETURN(msgpack::object_handle handle, mp::unpack(bytes));
  return from_object(handle.get());
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    size_t len = utf8_sequence(text.substr(i));
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t len = utf8_sequence(text.substr(i));
      if (len == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
        ++i;
      } else {
        out.append(text.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

}  // namespace slipway
