// A JSON object written in insertion order, for summary files
// (RUN_DIR/summary.json, SWEEP_DIR/summary.json). Non-finite numbers become
// null (JSON has no NaN), strings are escaped.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
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

}  // namespace sinapsis
