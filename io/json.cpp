// read_json: a recursive-descent reader of RFC 8259 JSON that counts lines
// for its messages.
#include <algorithm>
#include <charconv>
#include <cstdint>

#include "core/error.hpp"
#include "io/json.hpp"

namespace sinapsis {
namespace {

// Deeper nesting than any summary has is refused before it can exhaust the stack.
constexpr std::size_t kMaxDepth = 64;

class Reader {
 public:
  Reader(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  JsonValue document() {
    JsonValue value = this->value(0);
    skip_space();
    if (at_ < text_.size()) fail("unexpected '" + std::string(1, text_[at_]) + "' after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw DataError(source_ + " line " + std::to_string(line_) + ": " + what);
  }
  [[noreturn]] void fail_here(const std::string& expected) const {
    if (at_ >= text_.size()) fail("the file ends where " + expected + " should be (cut short?)");
    fail("expected " + expected + ", found '" + std::string(1, text_[at_]) + "'");
  }

  void skip_space() {
    for (; at_ < text_.size(); ++at_) {
      const char c = text_[at_];
      if (c == '\n') ++line_;
      else if (c != ' ' && c != '\t' && c != '\r') return;
    }
  }
  bool next_is(char c) {
    skip_space();
    return at_ < text_.size() && text_[at_] == c;
  }
  void expect(char c, const std::string& what) {
    if (!next_is(c)) fail_here(what);
    ++at_;
  }

  JsonValue value(std::size_t depth) {
    skip_space();
    JsonValue v;
    v.line = line_;
    if (at_ >= text_.size()) fail_here("a value");
    const char c = text_[at_];
    if ((c == '{' || c == '[') && depth >= kMaxDepth)
      fail("nested more than " + std::to_string(kMaxDepth) + " levels deep");
    if (c == '{') {
      object(v, depth);
    } else if (c == '[') {
      array(v, depth);
    } else if (c == '"') {
      v.type = JsonValue::Type::string;
      v.text = string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.type = JsonValue::Type::number;
      v.number = number();
    } else if (word("true")) {
      v.type = JsonValue::Type::boolean;
      v.boolean = true;
    } else if (word("false")) {
      v.type = JsonValue::Type::boolean;
    } else if (!word("null")) {
      fail_here("a value");
    }
    return v;
  }

  bool word(std::string_view w) {
    if (text_.substr(at_, w.size()) != w) return false;
    at_ += w.size();
    return true;
  }

  void object(JsonValue& v, std::size_t depth) {
    v.type = JsonValue::Type::object;
    ++at_;  // {
    if (next_is('}')) {
      ++at_;
      return;
    }
    do {
      if (!next_is('"')) fail_here("a member name in quotes");
      std::string key = string();
      if (v.find(key) != nullptr) fail("\"" + key + "\" appears twice in one object");
      expect(':', "':' after \"" + key + "\"");
      v.members.emplace_back(std::move(key), value(depth + 1));
    } while (comma());
    expect('}', "',' or '}'");
  }

  void array(JsonValue& v, std::size_t depth) {
    v.type = JsonValue::Type::array;
    ++at_;  // [
    if (next_is(']')) {
      ++at_;
      return;
    }
    do v.items.push_back(value(depth + 1));
    while (comma());
    expect(']', "',' or ']'");
  }

  bool comma() {
    if (!next_is(',')) return false;
    ++at_;
    return true;
  }

  // The JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  double number() {
    const std::size_t start = at_;
    const auto digits = [&] {
      const std::size_t from = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      return at_ > from;
    };
    if (text_[at_] == '-') ++at_;
    if (at_ < text_.size() && text_[at_] == '0') ++at_;
    else if (!digits()) fail_here("a digit");
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      if (!digits()) fail_here("a digit after '.'");
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (!digits()) fail_here("a digit in the exponent");
    }
    double result = 0;
    const auto [end, error] = std::from_chars(text_.data() + start, text_.data() + at_, result);
    if (error != std::errc() || end != text_.data() + at_)
      fail("the number " + std::string(text_.substr(start, at_ - start)) + " is out of range");
    return result;
  }

  std::string string() {
    ++at_;  // "
    std::string out;
    while (true) {
      if (at_ >= text_.size()) fail("the file ends inside a string (cut short?)");
      const unsigned char c = static_cast<unsigned char>(text_[at_++]);
      if (c == '"') return out;
      if (c < 0x20) fail("a control character inside a string (a line break must be written \\n)");
      if (c != '\\') {
        out += char(c);
        continue;
      }
      if (at_ >= text_.size()) fail("the file ends inside a string (cut short?)");
      switch (const char e = text_[at_++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, code_point()); break;
        default: fail("unknown escape \\" + std::string(1, e) + " in a string");
      }
    }
  }

  std::uint32_t hex4() {
    std::uint32_t value = 0;
    const auto [end, error] = std::from_chars(text_.data() + at_, text_.data() + std::min(at_ + 4, text_.size()), value, 16);
    if (error != std::errc() || end != text_.data() + at_ + 4) fail("\\u needs four hex digits");
    at_ += 4;
    return value;
  }

  // After "\u": one code point, a surrogate pair read as one.
  std::uint32_t code_point() {
    const std::uint32_t first = hex4();
    if (first >= 0xDC00 && first <= 0xDFFF) fail("a lone low surrogate \\u" + hex_text(first));
    if (first < 0xD800 || first > 0xDBFF) return first;
    if (!word("\\u")) fail("a high surrogate \\u" + hex_text(first) + " without its low half");
    const std::uint32_t second = hex4();
    if (second < 0xDC00 || second > 0xDFFF) fail("a high surrogate \\u" + hex_text(first) + " without its low half");
    return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
  }

  static std::string hex_text(std::uint32_t value) {
    char text[8];
    std::snprintf(text, sizeof text, "%04X", unsigned(value));
    return text;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  std::string_view text_;
  const std::string& source_;
  std::size_t at_ = 0;
  std::size_t line_ = 1;
};

}  // namespace

JsonValue read_json(std::string_view text, const std::string& source) { return Reader(text, source).document(); }

}  // namespace sinapsis
