// json_text: the layout of sinapsis's JSON files, written by hand because
// nlohmann's dump() lays out lists and numbers differently (and refuses a
// string that is not UTF-8). read_json: nlohmann's parser, with a callback
// that refuses duplicate keys and deep nesting and notes where values start.
#include "io/json_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/error.hpp"

namespace sinapsis {
namespace {

using nlohmann::ordered_json;

// ---- Writing ----------------------------------------------------------------

void append_quoted(std::string& out, const std::string& text) {
  out += '"';
  for (const unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";  // JSON has no NaN or infinity
    return;
  }
  std::ostringstream text;
  text.precision(10);
  text << value;
  out += text.str();
}

// `value` written where a line is indented by `indent` spaces.
void append_value(std::string& out, const ordered_json& value, std::size_t indent) {
  using Type = ordered_json::value_t;
  switch (value.type()) {
    case Type::object: {
      if (value.empty()) {
        out += "{}";
        return;
      }
      const char* separator = "{\n";
      for (const auto& [key, member] : value.items()) {
        out += separator;
        out.append(indent + 2, ' ');
        append_quoted(out, key);
        out += ": ";
        append_value(out, member, indent + 2);
        separator = ",\n";
      }
      out += '\n';
      out.append(indent, ' ');
      out += '}';
      return;
    }
    case Type::array: {
      const bool one_per_line =
          std::any_of(value.begin(), value.end(), [](const ordered_json& item) { return item.is_structured(); });
      // Rows of a matrix (arrays of arrays) are indented under it; objects
      // in an array open at its own indent.
      const bool rows = one_per_line && std::all_of(value.begin(), value.end(), [](const ordered_json& item) {
                          return item.is_array();
                        });
      const std::size_t inner = rows ? indent + 2 : indent;
      const std::string separator = one_per_line ? ",\n" + std::string(inner, ' ') : ", ";
      out += one_per_line && !value.empty() ? "[\n" + std::string(inner, ' ') : "[";
      for (auto item = value.begin(); item != value.end(); ++item) {
        if (item != value.begin()) out += separator;
        append_value(out, *item, inner);
      }
      out += one_per_line ? "\n" + std::string(indent, ' ') + "]" : "]";
      return;
    }
    case Type::string: append_quoted(out, value.get_ref<const std::string&>()); return;
    case Type::number_float: append_number(out, value.get<double>()); return;
    case Type::number_integer: out += std::to_string(value.get<std::int64_t>()); return;
    case Type::number_unsigned: out += std::to_string(value.get<std::uint64_t>()); return;
    case Type::boolean: out += value.get<bool>() ? "true" : "false"; return;
    case Type::null: out += "null"; return;
    case Type::binary:
    case Type::discarded: break;
  }
  throw std::logic_error("json_text: a binary or discarded value has no JSON text");
}

// ---- Reading ----------------------------------------------------------------

// Deeper nesting than any file of sinapsis has is refused.
constexpr int kMaxDepth = 64;

// Where nlohmann's parser has read to. Its 3.11 parser tells a callback no
// positions, so the text is handed to it through LineCountingIterator, which
// counts the lines of what it hands over.
struct ReadPosition {
  std::size_t newlines_before_last = 0;  // in the text before the character read last
  bool last_is_newline = false;

  // The line of the character read last: where a token just read (and so a
  // value just parsed) is, also when it is a number after which the parser
  // looked at one more character.
  std::size_t line() const { return newlines_before_last + 1; }
};

class LineCountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  LineCountingIterator(const char* at, ReadPosition* position) : at_(at), position_(position) {}

  reference operator*() const { return *at_; }
  LineCountingIterator& operator++() {
    position_->newlines_before_last += position_->last_is_newline;
    position_->last_is_newline = *at_ == '\n';
    ++at_;
    return *this;
  }
  LineCountingIterator operator++(int) {
    LineCountingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const LineCountingIterator& other) const { return at_ == other.at_; }

 private:
  const char* at_;
  ReadPosition* position_;  // shared by the copies the parser makes
};

// nlohmann's message without its exception id and its own position:
// "[json.exception.parse_error.101] parse error at line 3, column 13: syntax
// error while parsing array - ..." -> "syntax error while parsing array - ...".
std::string description(const nlohmann::ordered_json::exception& e) {
  std::string_view what = e.what();
  if (const std::size_t id_end = what.find("] "); what.starts_with("[json.exception.") && id_end != what.npos)
    what.remove_prefix(id_end + 2);
  if (const std::size_t colon = what.find(": "); what.starts_with("parse error at line ") && colon != what.npos)
    what.remove_prefix(colon + 2);
  return std::string(what);
}

}  // namespace

std::string json_text(const ordered_json& value) {
  std::string out;
  append_value(out, value, 0);
  return out;
}

namespace {

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD.
// sinapsis writes paths as their bytes (a path need not be UTF-8) and
// nlohmann's parser refuses such strings; a reader of a summary wants its
// numbers, not an exact copy of a Latin-1 path. Lines stay where they were.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool valid = length > 0 && i + length <= text.size() && !(length == 2 && c < 0xC2) && !(c > 0xF4);
    for (std::size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (valid && length == 3) {  // no overlong forms, no surrogates
      const auto next = static_cast<unsigned char>(text[i + 1]);
      valid = !(c == 0xE0 && next < 0xA0) && !(c == 0xED && next >= 0xA0);
    }
    if (valid && length == 4) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      valid = !(c == 0xF0 && next < 0x90) && !(c == 0xF4 && next >= 0x90);
    }
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

JsonDocument::JsonDocument(std::string_view raw, const std::string& source) : source_(source) {
  const std::string repaired = valid_utf8(raw);
  const std::string_view text = repaired;
  ReadPosition position;
  const auto fail = [&](const std::string& what) {
    throw DataError(source + " line " + std::to_string(position.line()) + ": " + what);
  };
  std::vector<std::size_t> starts;          // the line of each value, in the order they start
  std::vector<std::set<std::string>> keys;  // the keys so far of each object being read
  const auto note = [&](int depth, ordered_json::parse_event_t event, ordered_json& parsed) {
    using Event = ordered_json::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxDepth)
      fail("nested more than " + std::to_string(kMaxDepth) + " levels deep");
    if (event == Event::object_start || event == Event::array_start || event == Event::value)
      starts.push_back(position.line());
    if (event == Event::object_start) keys.emplace_back();
    if (event == Event::object_end) keys.pop_back();
    if (event == Event::key && !keys.back().insert(parsed.get<std::string>()).second)
      fail("\"" + parsed.get<std::string>() + "\" appears twice in one object");
    return true;
  };
  try {
    value_ = ordered_json::parse(LineCountingIterator(text.data(), &position),
                                 LineCountingIterator(text.data() + text.size(), &position), note);
  } catch (const ordered_json::parse_error& e) {
    fail(description(e) + (e.byte > text.size() ? " (cut short?)" : ""));
  } catch (const ordered_json::exception& e) {  // a number out of range
    fail(description(e));
  }
  // The values in document order, as they started: a walk of the tree in
  // the order of its keys, which is the file's.
  std::size_t next = 0;
  const auto walk = [&](const auto& self, const ordered_json& value) -> void {
    lines_[&value] = starts.at(next++);
    if (value.is_structured())
      for (const ordered_json& item : value) self(self, item);
  };
  walk(walk, value_);
}

JsonDocument read_json(std::string_view text, const std::string& source) { return JsonDocument(text, source); }

void JsonDocument::require_object() const {
  if (!value_.is_object()) throw DataError(source_ + " line 1: not a JSON object");
}

const nlohmann::ordered_json* JsonDocument::member(const nlohmann::ordered_json& object, const std::string& key,
                                                   JsonTypeCheck is, const char* what) const {
  const auto value = object.find(key);
  if (value == object.end() || value->is_null()) return nullptr;
  if (!((*value).*is)()) throw DataError(where(*value) + ": \"" + key + "\" must be " + what);
  return &*value;
}

std::size_t JsonDocument::whole_number(const nlohmann::ordered_json& part, const std::string& key) const {
  const double number = part.get<double>();
  if (!(number >= 0 && number <= 9007199254740992.0 && number == std::floor(number)))
    throw DataError(where(part) + ": \"" + key + "\" must be a whole number >= 0, got " + std::to_string(number));
  return std::size_t(number);
}

}  // namespace sinapsis
