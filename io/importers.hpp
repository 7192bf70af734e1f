// Importers from other formats into a Dataset (then written with
// write_data_file).
//
// IDX (LeCun's MNIST format, also Fashion-MNIST), gzipped or not: a magic
// number 0x000008TT0D (TT = 0x08 unsigned byte, D = number of dimensions),
// D big-endian 32-bit sizes, then the data. Images [N, rows, cols] become
// features [N, rows*cols] (pixel values 0..255 as they are); labels [N]
// become class ids.
//
// The header's sizes are checked before anything is allocated: they must
// multiply to what the file holds and fit in memory (a gzip bomb is read
// only as far as the header promises).
//
// CSV (io/csv_import.cpp): io/csv_reader.hpp reads the text (the
// delimiter given or detected from the header, RFC 4180 quoting with fields
// spanning lines, a byte order mark, CRLF; "line L" in messages is the line
// a record starts on). A header row names the columns; the label column is
// given by name.
//
// Missing cells: an empty field, or one of kMissingTokens (NA, N/A, n/a,
// #N/A, NaN, nan, null, NULL, ?), quoted or not, blanks around it ignored.
// What they become is `missing` (MissingPolicy):
//   error (default): refused, naming the line, the column and the cell;
//   drop:  rows with a missing feature or label cell are left out (counted);
//   mean:  a numeric column's missing cells take the mean of its present
//          values, a categorical column's its most frequent level (the
//          first in sorted order on a tie);
//   value: a numeric column's take `missing.value`, a categorical column's
//          its most frequent level (a number is no level).
// A missing label is never filled: its row is dropped with drop, refused
// otherwise. Every fill is recorded in the schema (io/schema.hpp "fill",
// for every feature column, whether or not it had a missing cell), so a
// table encoded with the schema later is filled with the TRAINING table's
// values: with a schema, mean (what the commands pass when --missing is not
// given) takes the schema's fills and refuses a missing cell of a column
// that has none, error refuses every missing cell, drop drops their rows,
// and value is refused (UsageError: the fills are the schema's).
//
// A column is numeric when more than half of its present values look like
// numbers (inf and 1e400 included), and then every present value must be a
// finite number a float32 holds: text, inf or an overflow is refused naming
// the line, column and value. Other columns are categorical and one-hot
// encoded, with feature names "column=value"; one with more distinct values
// than `max_levels` is refused (an id or free text: --ignore it). A column
// with no present value is refused. A categorical label becomes class ids
// 0..K-1 in sorted order of its values (kept as class_names; not bounded by
// max_levels, only by kMaxClasses); a numeric label of whole numbers >= 0
// is class ids, any other numeric label a regression target; `task` forces
// either. With a schema, a label column whose every cell is missing is read
// as absent (rows to predict, their label left blank), and so is any label
// column when `read_label` is false.
//
// Class ids follow ClassIdRule (core/dataset.hpp): `declared_classes`
// (e.g. the count of --class-names; 0: none) bounds them, else they may
// not exceed the number of rows.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/dataset.hpp"
#include "io/schema.hpp"

namespace sinapsis {

enum class LabelTask { automatic, classification, regression };

Dataset import_idx(const std::string& images_path, const std::string& labels_path, std::size_t declared_classes = 0);
enum class UnknownLevel { error, ignore };
enum class MissingPolicy { error, drop, mean, value };
struct MissingCells {
  MissingPolicy policy = MissingPolicy::error;
  double value = 0;  // MissingPolicy::value: the fill of numeric columns
};
// The cells that mean "no value", besides an empty one.
inline constexpr const char* kMissingTokens[] = {"NA", "N/A", "n/a", "#N/A", "NaN", "nan", "null", "NULL", "?"};
// More distinct values than this in a categorical feature column: an id,
// a timestamp or free text, not a category. One-hot, each value is a
// feature and a column of first-layer weights, and a value seen in a
// handful of rows teaches the network nothing; 1000 leaves room for real
// categories (countries, products, postcodes of a region).
inline constexpr std::size_t kDefaultMaxLevels = 1000;

// How a CSV becomes a data set. Without `schema`, the columns' kinds and
// levels are inferred (above) and recorded as the data's schema
// (io/schema.hpp); with one (`data import --schema-from`), the table is
// encoded exactly as the schema says: its columns found by name in any
// order, the one-hot levels in the schema's order, a level the schema lacks
// refused naming row, column and value (or, with UnknownLevel::ignore,
// encoded as all zeros and counted), the label's class names mapped to the
// schema's class ids. A table without the label column is data to predict
// on: no labels.
struct CsvOptions {
  std::string label;                 // the label column; "" for none
  std::vector<std::string> ignored;  // columns left out of the features (free text, ...)
  std::string id;                    // a column of row ids, kept with the data ("" for none)
  LabelTask task = LabelTask::automatic;
  std::size_t declared_classes = 0;
  const InputSchema* schema = nullptr;  // encode as this schema
  std::string schema_source;            // where it came from, for messages ("the model m.h5")
  UnknownLevel unknown_level = UnknownLevel::error;
  bool read_label = true;         // with a schema, false: its label column is not read (predict)
  std::optional<char> delimiter;  // ',', ';', '\t' or '|'; nullopt: detected from the header
  // '.' or ',' (1,5 = 1.5; a number holding '.' is then refused); nullopt
  // (auto): '.', and a column that is numeric only with ',' is refused
  // naming it, rather than one-hot encoded as categories.
  std::optional<char> decimal;
  MissingCells missing;
  std::size_t max_levels = kDefaultMaxLevels;  // without a schema
};
struct CsvImport {
  Dataset data;                    // data.schema: the schema it was encoded with
  std::size_t unknown_levels = 0;  // cells encoded as all zeros (UnknownLevel::ignore)
  char delimiter = ',';
  bool delimiter_detected = false;
  std::size_t rows_read = 0;     // data rows in the file
  std::size_t rows_dropped = 0;  // MissingPolicy::drop
  std::vector<std::size_t> rows_kept;  // with rows dropped: the file's data row (from 0) of each row
  struct Filled {
    std::string column;
    std::size_t cells = 0;
    std::string value;  // "37.5", "'blue'"
    std::string how;    // "the column's mean", "--missing 0", "its most frequent level", "from m.h5"
  };
  std::vector<Filled> filled;  // the columns whose missing cells were filled, in feature order
};
CsvImport import_csv(const std::string& path, const CsvOptions& options);
// What a command prints about a CSV it read, one line each: the rows and
// the delimiter, the rows dropped and the cells filled.
std::string csv_import_notes(const std::string& path, const CsvImport& imported);
// --delimiter: auto (nullopt), ',' or comma, ';' or semicolon, tab (or a
// tab character, or \t), '|' or pipe. UsageError naming `option` else.
std::optional<char> parse_delimiter(const std::string& text, const std::string& option);
// --decimal: auto (nullopt), '.' (point) or ',' (comma). UsageError naming `option` else.
std::optional<char> parse_decimal(const std::string& text, const std::string& option);
// --missing: error, drop, mean or a number a float32 holds. UsageError
// naming `option` else.
MissingCells parse_missing(const std::string& text, const std::string& option);
// `ignored` columns (ids, free text) are left out of the features.
Dataset import_csv(const std::string& path, const std::string& label_column,
                   const std::vector<std::string>& ignored = {}, LabelTask task = LabelTask::automatic,
                   std::size_t declared_classes = 0);

}  // namespace sinapsis
