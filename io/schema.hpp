// The input schema of a table: how the columns of a CSV became the features
// (and the labels) of a data set, so that new data is encoded exactly the
// same way. `data import` records it in the data file, `train` copies it into
// model.h5 and its checkpoints, `data import --schema-from` and `predict`
// apply it (the fitted transformation travels with the model, as in
// scikit-learn's pipelines and Keras' preprocessing layers).
//
// Stored as the root attribute `schema` of a data or model file: one JSON
// string (readable with h5py: json.loads(f.attrs["schema"])):
//   {"columns": [{"name": "outlook", "kind": "categorical",
//                 "levels": ["overcast", "rain", "sunny"]},
//                {"name": "temp", "kind": "numeric"},
//                {"name": "match", "kind": "id"},
//                {"name": "notes", "kind": "ignored"},
//                {"name": "play", "kind": "label"}],
//    "label": {"name": "play", "task": "classification", "classes": ["no", "yes"]}}
// Features are the numeric and categorical columns in this order: a numeric
// column is one feature `name`, a categorical one a one-hot block of
// features `name=level`, one per level in the order listed. `label` is
// absent for data without one; `classes` lists the class names in class-id
// order (empty for numeric class ids and for regression).
//
// A feature column may carry `"fill"`: what its missing cells become (the
// fitted imputation, like scikit-learn's SimpleImputer: computed on the
// training table by `data import --missing mean|VALUE`, then applied to
// every table encoded with this schema, never recomputed on a new one):
//   {"name": "temp", "kind": "numeric", "fill": 21.5}          the mean (or VALUE), as float32 holds it
//   {"name": "outlook", "kind": "categorical", "levels": [...], "fill": "sunny"}   one of the levels
// A column without "fill" (every column of a schema written before fills
// existed) has none: its missing cells are refused or their rows dropped.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/dataset.hpp"

namespace sinapsis {

struct SchemaColumn {
  enum class Kind { numeric, categorical, id, ignored, label };
  SchemaColumn() = default;
  SchemaColumn(std::string name_, Kind kind_, std::vector<std::string> levels_ = {})
      : name(std::move(name_)), kind(kind_), levels(std::move(levels_)) {}

  std::string name;
  Kind kind = Kind::numeric;
  std::vector<std::string> levels;  // categorical: the one-hot order
  // What a missing cell becomes (above); none: it has no fill.
  std::optional<double> fill;             // numeric: a value a float32 holds exactly
  std::optional<std::string> fill_level;  // categorical: one of `levels`
  bool is_feature() const { return kind == Kind::numeric || kind == Kind::categorical; }
  bool has_fill() const { return fill || fill_level; }
};

struct InputSchema {
  std::vector<SchemaColumn> columns;  // the table's columns, in its order
  std::string label;                  // the label column; "" when the data has none
  Task task = Task::classification;   // the label's
  std::vector<std::string> classes;   // class names in class-id order (a categorical label)

  bool empty() const { return columns.empty(); }
  // The feature names in feature order ("temp", "outlook=rain").
  std::vector<std::string> feature_names() const;
  std::size_t feature_count() const;
  // The JSON text stored in files (see above).
  std::string json() const;
  // Parses json(); DataError naming `source` for anything else.
  static InputSchema from_json(const std::string& text, const std::string& source);
};

// The schema a data or model file records (its root attribute `schema`);
// nullopt when it has none. DataError for a file that cannot be read or a
// schema that is not one.
std::optional<InputSchema> read_file_schema(const std::string& path);

// Where data encoded by `got` would not feed a model trained with
// `expected` the same features: "" when the feature columns agree (names,
// kinds and levels, in order, and any fill `got` has is `expected`'s), else
// a phrase naming the first column that differs ("column 'color': levels
// blue, white here, red, white in ...").
std::string schema_difference(const InputSchema& expected, const InputSchema& got);

}  // namespace sinapsis
