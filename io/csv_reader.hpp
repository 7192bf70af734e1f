// Reading a CSV file as people really have it: RFC 4180 and the common
// departures from it, into a table of text cells (the importers decide what
// the cells mean).
//
// - Delimiter: ',', ';', tab or '|' as given, or detected (nullopt) from
//   the header: of ',', ';' and tab, the one that splits the header into
//   the most fields AND splits the next records (up to kDetectionRecords of
//   them) into as many; if none is consistent, the one that splits the
//   header most (the first ragged row is then refused, saying so); a header
//   of one field is read with ','.
// - Quoting: a field whose first non-blank character is '"' is quoted: it
//   may hold the delimiter, line ends (CRLF or LF, read as "\n") and "" for
//   a quote; text after the closing quote is kept as it is ("ab"c is abc).
//   A quote inside an unquoted field is an ordinary character (5'11").
//   A quote still open at the end of the file is refused naming the line
//   where it opened.
// - Line ends: LF, CRLF or CR alike. A UTF-8 byte order mark is skipped.
// - Blanks: spaces and tabs around an unquoted field are dropped; quoted
//   text is kept as it is. Blank lines are skipped.
// - Line numbers: every record is known by the physical line it starts on,
//   counted from 1 with blank lines and the lines inside quoted fields, so
//   "line L" in a message is what an editor shows.
// - Every record has as many fields as the header, and the header names no
//   column twice; a file that is empty or has no records is refused.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sinapsis {

// The records looked at to detect the delimiter, after the header.
inline constexpr std::size_t kDetectionRecords = 20;

struct CsvTable {
  std::string path;
  char delimiter = ',';
  bool delimiter_detected = false;  // found from the header, not given
  char decimal = '.';               // the decimal separator of its numbers ('.' or ',')
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // [row][column], header.size() fields each
  std::vector<std::size_t> line_of;            // the line each row starts on

  // The column called `name`, or npos.
  std::size_t column(const std::string& name) const;
  // "PATH: line L, column 'NAME'", for messages about one cell.
  std::string where(std::size_t row, std::size_t column) const;
  // Keeps the rows whose `keep` is true, in order.
  void keep_rows(const std::vector<bool>& keep);
};

// Reads `path`. `check_header` sees the header before any row is read (a
// missing label column is named at once, not after a table of errors).
// DataError naming the file and line for what cannot be read.
CsvTable read_csv(const std::string& path, std::optional<char> delimiter,
                  const std::function<void(const CsvTable&)>& check_header = {});

// The delimiter found in `sample`, the beginning of a CSV text (rule above;
// `complete`: the sample is the whole text, so its last record is whole).
char detect_delimiter(std::string_view sample, bool complete);

// How messages name a delimiter: "','", "';'", "tab", "'|'".
std::string delimiter_name(char delimiter);

}  // namespace sinapsis
