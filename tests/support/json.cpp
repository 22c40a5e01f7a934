#include "support/json.h"

#include <cstdlib>

namespace slipway::test {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<Value> document() {
    auto v = value(0);
    if (!v.ok()) return v;
    skip();
    if (i_ != s_.size()) return fail("trailing characters");
    return v;
  }

 private:
  Error fail(const std::string& what) {
    return Error(Code::kInvalidArgument, "JSON: " + what + " at offset " + std::to_string(i_));
  }
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  Result<Value> value(int depth) {
    if (depth > 64) return fail("too deep");
    skip();
    if (i_ >= s_.size()) return fail("unexpected end");
    char c = s_[i_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      auto str = string();
      if (!str.ok()) return str.error();
      return Value(*str);
    }
    if (literal("true")) return Value(true);
    if (literal("false")) return Value(false);
    if (literal("null")) return Value();
    return number();
  }
  Result<Value> number() {
    size_t start = i_;
    bool is_float = false;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' ||
                              s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
      is_float = is_float || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E';
      ++i_;
    }
    if (start == i_) return fail("unexpected character");
    std::string text(s_.substr(start, i_ - start));
    if (is_float) return Value(std::strtod(text.c_str(), nullptr));
    return Value(static_cast<int64_t>(std::strtoll(text.c_str(), nullptr, 10)));
  }
  Result<std::string> string() {
    ++i_;  // opening quote
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return fail("bad escape");
      char e = s_[i_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return fail("bad \\u escape");
          unsigned cp = static_cast<unsigned>(
              std::strtoul(std::string(s_.substr(i_, 4)).c_str(), nullptr, 16));
          i_ += 4;
          if (cp < 0x80)
            out += static_cast<char>(cp);
          else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default:
          out += e;
      }
    }
    if (i_ >= s_.size()) return fail("unterminated string");
    ++i_;
    return out;
  }
  Result<Value> array(int depth) {
    ++i_;
    Value out = Value::array();
    skip();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return out;
    }
    for (;;) {
      auto item = value(depth + 1);
      if (!item.ok()) return item;
      out.push(std::move(*item));
      skip();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return out;
      }
      return fail("expected , or ]");
    }
  }
  Result<Value> object(int depth) {
    ++i_;
    Value out = Value::object();
    skip();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return out;
    }
    for (;;) {
      skip();
      if (i_ >= s_.size() || s_[i_] != '"') return fail("expected a key");
      auto key = string();
      if (!key.ok()) return key.error();
      skip();
      if (i_ >= s_.size() || s_[i_] != ':') return fail("expected :");
      ++i_;
      auto item = value(depth + 1);
      if (!item.ok()) return item;
      out.set(*key, std::move(*item));
      skip();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return out;
      }
      return fail("expected , or }");
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

Result<Value> parse_json(std::string_view text) {
  return Parser(text).document();
}

}  // namespace slipway::test
