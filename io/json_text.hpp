// JSON files as sinapsis writes and reads them (RUN_DIR/summary.json,
// SWEEP_DIR/summary.json, plan --format json, info --network --out). The
// data is a nlohmann::ordered_json, whose keys keep their insertion order;
// this file owns only the text: json_text writes the layout these files have
// always had, read_json parses with nlohmann's parser and keeps, for
// messages, the line where each value starts.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>  // nlohmann::ordered_json
#include <string>
#include <string_view>
#include <unordered_map>

namespace sinapsis {

// The text of `value` (no final newline): an object's members one per line,
// indented two spaces per level, `{}` when empty; a list of objects (or
// lists) one item per line (a list of lists indented under its key, as
// the rows of a matrix), any other list inline as ["a", "b"]; floating
// numbers as a stream writes them with precision 10 (0.05, 1e-05, 3), null
// when NaN or infinite; integers in full. Strings escape '"', '\\', \n, \t,
// \r and other control characters as \u00xx, and pass every other byte
// through unchanged (a path need not be UTF-8).
std::string json_text(const nlohmann::ordered_json& value);

// What a value must be, for a reader to check: one of ordered_json's
// is_number, is_string, is_array, is_object, ... (&nlohmann::ordered_json::is_number).
using JsonTypeCheck = bool (nlohmann::ordered_json::*)() const noexcept;

// A document read by read_json: the value, and where each of its values
// starts. Neither copied nor moved, as the lines are kept by the address of
// each value inside the document.
class JsonDocument {
 public:
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;

  const nlohmann::ordered_json& value() const { return value_; }
  const std::string& source() const { return source_; }
  // The line (1-based) where `part`, a value inside value() (or value()
  // itself), starts.
  std::size_t line(const nlohmann::ordered_json& part) const { return lines_.at(&part); }
  // "SOURCE line N": where `part` starts, for messages.
  std::string where(const nlohmann::ordered_json& part) const { return source_ + " line " + std::to_string(line(part)); }

  // For readers of files sinapsis wrote, each failure a DataError naming
  // the file, the line and the key:
  // - the document must be an object;
  void require_object() const;
  // - the member `key` of `object` if `is` accepts it (`what`: "a number",
  //   ...), nullptr if it is absent or null;
  const nlohmann::ordered_json* member(const nlohmann::ordered_json& object, const std::string& key,
                                       JsonTypeCheck is, const char* what) const;
  // - a whole number >= 0 (a count, an epoch, a trial id).
  std::size_t whole_number(const nlohmann::ordered_json& part, const std::string& key) const;

 private:
  friend JsonDocument read_json(std::string_view text, const std::string& source);
  JsonDocument(std::string_view text, const std::string& source);

  std::string source_;
  nlohmann::ordered_json value_;
  std::unordered_map<const nlohmann::ordered_json*, std::size_t> lines_;
};

// Reads a whole JSON document (RFC 8259; no duplicate keys, nesting at most
// 64 deep; bytes of a string that are not UTF-8, as a path may hold, read
// as U+FFFD). Throws DataError "SOURCE line N: what is
// wrong" for anything else: a file cut short, a stray character, a bad
// escape, a number out of range, text after the value.
JsonDocument read_json(std::string_view text, const std::string& source);

}  // namespace sinapsis
