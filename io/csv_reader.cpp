#include "io/csv_reader.hpp"

#include <algorithm>
#include <fstream>
#include <new>  // std::bad_alloc
#include <streambuf>

#include "core/error.hpp"
#include "core/memory.hpp"

namespace sinapsis {
namespace {

constexpr int kEnd = -1;
constexpr char kDetectable[] = {',', ';', '\t'};
// The beginning of the file kept to detect the delimiter: the header and
// kDetectionRecords records unless its lines are very long.
constexpr std::size_t kSampleLines = 4 * (kDetectionRecords + 1);
constexpr std::size_t kSampleBytes = std::size_t(1) << 20;

// The characters of a CSV text: `sample`, then what `rest` (null: none) holds.
class Characters {
 public:
  Characters(std::string_view sample, std::streambuf* rest) : sample_(sample), rest_(rest) {}
  int peek() {
    if (at_ < sample_.size()) return static_cast<unsigned char>(sample_[at_]);
    if (rest_ == nullptr) return kEnd;
    const auto c = rest_->sgetc();  // a byte as 0..255, or eof
    return c == std::streambuf::traits_type::eof() ? kEnd : int(c);
  }
  int get() {
    const int c = peek();
    if (c == kEnd) return c;
    if (at_ < sample_.size()) ++at_;
    else rest_->sbumpc();
    return c;
  }

 private:
  std::string_view sample_;
  std::size_t at_ = 0;
  std::streambuf* rest_;
};

// Records off `chars`, by the rules in csv_reader.hpp.
class RecordReader {
 public:
  RecordReader(Characters& chars, char delimiter, const std::string& path)
      : chars_(chars), delimiter_(static_cast<unsigned char>(delimiter)), path_(path) {}

  // A sample cut anywhere: a quote open at its end ends the records.
  void allow_cut_end() { cut_allowed_ = true; }

  // The next record that is not blank, and the line it starts on; false at
  // the end of the text.
  bool next(std::vector<std::string>& fields, std::size_t& line) {
    while (!cut_ && chars_.peek() != kEnd) {
      line = line_;
      fields.clear();
      bool quoted = false;
      int end = 0;
      do {
        fields.emplace_back();
        end = field(fields.back(), quoted);
      } while (end == delimiter_);
      if (cut_) return false;
      if (fields.size() > 1 || quoted || !fields[0].empty()) return true;
    }
    return false;
  }

 private:
  bool blank(int c) const { return c == ' ' || (c == '\t' && delimiter_ != '\t'); }

  // Takes the LF of a CRLF after `c`; true when `c` ended a line.
  bool line_end(int c) {
    if (c != '\r' && c != '\n') return false;
    if (c == '\r' && chars_.peek() == '\n') chars_.get();
    ++line_;
    return true;
  }

  // One field into `out` (`quoted` set if it was); returns what ended it:
  // the delimiter, '\n' for a line end, or kEnd.
  int field(std::string& out, bool& quoted) {
    while (blank(chars_.peek())) chars_.get();
    if (chars_.peek() == '"') {
      chars_.get();
      quoted = true;
      const std::size_t opened = line_;
      for (;;) {
        const int c = chars_.get();
        if (c == kEnd) {
          if (cut_allowed_) {
            cut_ = true;
            return kEnd;
          }
          throw DataError(path_ + ": line " + std::to_string(opened) +
                          ": a quoted field opens here and is never closed (unterminated quote)");
        }
        if (c == '"') {
          if (chars_.peek() != '"') break;
          chars_.get();  // "" is a quote
        }
        out += line_end(c) ? '\n' : char(c);
      }
    }
    const std::size_t quoted_part = out.size();  // kept as it is; the rest is trimmed
    int c = chars_.get();
    for (; c != kEnd && c != delimiter_; c = chars_.get()) {
      if (line_end(c)) {
        c = '\n';
        break;
      }
      out += char(c);
    }
    while (out.size() > quoted_part && blank(static_cast<unsigned char>(out.back()))) out.pop_back();
    return c;
  }

  Characters& chars_;
  int delimiter_;
  const std::string& path_;
  std::size_t line_ = 1;
  bool cut_allowed_ = false, cut_ = false;
};

}  // namespace

std::size_t CsvTable::column(const std::string& name) const {
  const auto at = std::find(header.begin(), header.end(), name);
  return at == header.end() ? std::string::npos : std::size_t(at - header.begin());
}

std::string CsvTable::where(std::size_t row, std::size_t column) const {
  return path + ": line " + std::to_string(line_of[row]) + ", column '" + header[column] + "'";
}

void CsvTable::keep_rows(const std::vector<bool>& keep) {
  std::size_t kept = 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (!keep[r]) continue;
    if (kept != r) {
      rows[kept] = std::move(rows[r]);
      line_of[kept] = line_of[r];
    }
    ++kept;
  }
  rows.resize(kept);
  line_of.resize(kept);
}

std::string delimiter_name(char delimiter) {
  return delimiter == '\t' ? "tab" : "'" + std::string(1, delimiter) + "'";
}

char detect_delimiter(std::string_view sample, bool complete) {
  const std::string no_path;
  char best = ',', best_consistent = 0;
  std::size_t most = 1, most_consistent = 1;
  for (const char delimiter : kDetectable) {
    Characters chars(sample, nullptr);
    RecordReader reader(chars, delimiter, no_path);
    reader.allow_cut_end();
    std::vector<std::string> fields;
    std::size_t line = 0;
    if (!reader.next(fields, line)) return ',';
    const std::size_t header = fields.size();
    std::vector<std::size_t> counts;
    while (counts.size() <= kDetectionRecords && reader.next(fields, line)) counts.push_back(fields.size());
    if (!complete && !counts.empty()) counts.pop_back();  // the sample may end inside it
    if (counts.size() > kDetectionRecords) counts.pop_back();
    const bool consistent = std::all_of(counts.begin(), counts.end(), [&](std::size_t n) { return n == header; });
    if (header > most) most = header, best = delimiter;
    if (consistent && header > most_consistent) most_consistent = header, best_consistent = delimiter;
  }
  return best_consistent != 0 ? best_consistent : best;
}

CsvTable read_csv(const std::string& path, std::optional<char> delimiter,
                  const std::function<void(const CsvTable&)>& check_header) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot be opened (missing?)");
  std::streambuf& file = *in.rdbuf();
  std::string sample;
  for (std::size_t lines = 0; sample.size() < kSampleBytes && lines < kSampleLines;) {
    const auto c = file.sbumpc();
    if (c == std::streambuf::traits_type::eof()) break;
    sample += char(c);
    lines += c == '\n';
  }
  if (sample.rfind("\xEF\xBB\xBF", 0) == 0) sample.erase(0, 3);  // UTF-8 byte order mark
  CsvTable t;
  t.path = path;
  t.delimiter_detected = !delimiter;
  t.delimiter = delimiter ? *delimiter : detect_delimiter(sample, file.sgetc() == std::streambuf::traits_type::eof());
  Characters chars(sample, &file);
  RecordReader reader(chars, t.delimiter, path);
  std::size_t line = 0;
  if (!reader.next(t.header, line)) throw DataError(path + ": empty file (no header row)");
  for (std::size_t c = 0; c < t.header.size(); ++c)
    for (std::size_t e = 0; e < c; ++e)
      if (t.header[e] == t.header[c]) throw DataError(path + ": the header names column '" + t.header[c] + "' twice");
  if (check_header) check_header(t);
  const std::string delimiter_note = " (delimiter " + delimiter_name(t.delimiter) +
                                     (t.delimiter_detected ? ", detected from the header; --delimiter sets it)" : ")");
  try {  // the table is held as text first: under a ulimit -v a big file may not fit
    std::vector<std::string> fields;
    while (reader.next(fields, line)) {
      if (fields.size() != t.header.size())
        throw DataError(path + ": line " + std::to_string(line) + " has " + std::to_string(fields.size()) +
                        " fields, the header has " + std::to_string(t.header.size()) + delimiter_note);
      t.rows.push_back(std::move(fields));
      t.line_of.push_back(line);
    }
  } catch (const std::bad_alloc&) {
    throw DataError(path + ": does not fit in memory as text (after " + std::to_string(t.rows.size()) + " rows; " +
                    "memory limit " + bytes_text(memory_limit_bytes()) + ")");
  }
  if (t.rows.empty()) throw DataError(path + ": no data rows");
  return t;
}

}  // namespace sinapsis
