// The JSON of summary files (RUN_DIR/summary.json, SWEEP_DIR/summary.json):
// JsonObject writes an object in insertion order (non-finite numbers become
// null, as JSON has no NaN; strings are escaped); read_json reads a document
// back into a JsonValue, for the commands that read summaries (report).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sinapsis {

class JsonObject {
 public:
  JsonObject& add(const std::string& key, double value) { return raw(key, number(value)); }
  JsonObject& add(const std::string& key, int value) { return raw(key, std::to_string(value)); }
  JsonObject& add(const std::string& key, std::size_t value) { return raw(key, std::to_string(value)); }
  JsonObject& add(const std::string& key, std::int64_t value) { return raw(key, std::to_string(value)); }
  JsonObject& add(const std::string& key, bool value) { return raw(key, value ? "true" : "false"); }
  JsonObject& add(const std::string& key, const char* value) { return raw(key, quote(value)); }
  JsonObject& add(const std::string& key, const std::string& value) { return raw(key, quote(value)); }
  JsonObject& add(const std::string& key, const JsonObject& value) { return raw(key, value.text()); }
  JsonObject& add(const std::string& key, const std::vector<std::string>& values) {
    std::string list = "[";
    for (std::size_t i = 0; i < values.size(); ++i) list += (i ? ", " : "") + quote(values[i]);
    return raw(key, list + "]");
  }
  JsonObject& add(const std::string& key, const std::vector<JsonObject>& values) {
    std::string list = "[";
    for (std::size_t i = 0; i < values.size(); ++i) list += (i ? ",\n" : "\n") + values[i].text();
    return raw(key, list + (values.empty() ? "]" : "\n]"));
  }
  JsonObject& add_null(const std::string& key) { return raw(key, "null"); }
  bool empty() const { return entries_.empty(); }

  // Two-space indented text, nested objects indented further.
  std::string text() const {
    if (entries_.empty()) return "{}";
    std::string out = "{";
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      out += i ? ",\n  " : "\n  ";
      out += quote(entries_[i].first) + ": " + indented(entries_[i].second);
    }
    return out + "\n}";
  }

  static std::string quote(const std::string& text) {
    std::string out = "\"";
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
    return out + "\"";
  }

 private:
  JsonObject& raw(const std::string& key, std::string value) {
    entries_.emplace_back(key, std::move(value));
    return *this;
  }
  static std::string number(double value) {
    if (!std::isfinite(value)) return "null";
    std::ostringstream text;
    text.precision(10);
    text << value;
    return text.str();
  }
  static std::string indented(const std::string& text) {
    std::string out;
    for (const char c : text) out += c == '\n' ? std::string("\n  ") : std::string(1, c);
    return out;
  }

  std::vector<std::pair<std::string, std::string>> entries_;
};

// One JSON value as read_json found it.
struct JsonValue {
  enum class Type { null, boolean, number, string, array, object };
  Type type = Type::null;
  bool boolean = false;
  double number = 0;
  std::string text;                                        // a string's value, unescaped (UTF-8)
  std::vector<JsonValue> items;                            // an array's values
  std::vector<std::pair<std::string, JsonValue>> members;  // an object's members, in file order
  std::size_t line = 1;                                    // where the value starts (1-based), for messages

  // The member `key` of an object; nullptr if there is none or this is not an object.
  const JsonValue* find(const std::string& key) const {
    for (const auto& [name, value] : members)
      if (name == key) return &value;
    return nullptr;
  }
};

// Reads a whole JSON document (RFC 8259; no duplicate keys, nesting at most
// 64 deep). Throws DataError "SOURCE line N: what is wrong" for anything else:
// a file cut short, a stray character, a bad escape, text after the value.
JsonValue read_json(std::string_view text, const std::string& source);

}  // namespace sinapsis
