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
// given by name. A column is numeric when most of its values look like
// numbers (nan, inf and 1e400 included), and then every value must be a
// finite number a float32 holds: a numeric column holding nan, inf or an
// overflow is refused naming the line, column and value (sinapsis has no
// missing values). Other columns are categorical and one-hot encoded, with
// feature names "column=value". A categorical label becomes class ids
// 0..K-1 in sorted order of its values (kept as class_names); a numeric
// label of whole numbers >= 0 is class ids, any other numeric label a
// regression target; `task` forces either.
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
  std::optional<char> delimiter;  // ',', ';', '\t' or '|'; nullopt: detected from the header
};
struct CsvImport {
  Dataset data;                    // data.schema: the schema it was encoded with
  std::size_t unknown_levels = 0;  // cells encoded as all zeros (UnknownLevel::ignore)
  char delimiter = ',';
  bool delimiter_detected = false;
  std::size_t rows_read = 0;  // data rows in the file
};
CsvImport import_csv(const std::string& path, const CsvOptions& options);
// What a command prints about a CSV it read: the rows and the delimiter.
std::string csv_import_notes(const std::string& path, const CsvImport& imported);
// --delimiter: auto (nullopt), ',' or comma, ';' or semicolon, tab (or a
// tab character, or \t), '|' or pipe. UsageError naming `option` else.
std::optional<char> parse_delimiter(const std::string& text, const std::string& option);
// `ignored` columns (ids, free text) are left out of the features.
Dataset import_csv(const std::string& path, const std::string& label_column,
                   const std::vector<std::string>& ignored = {}, LabelTask task = LabelTask::automatic,
                   std::size_t declared_classes = 0);

}  // namespace sinapsis
