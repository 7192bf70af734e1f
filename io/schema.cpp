#include "io/schema.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/number_text.hpp"
#include "io/hdf5.hpp"
#include "io/json_text.hpp"

namespace sinapsis {
namespace {

using nlohmann::ordered_json;

constexpr const char* kKindNames[] = {"numeric", "categorical", "id", "ignored", "label"};

const char* kind_name(SchemaColumn::Kind kind) { return kKindNames[int(kind)]; }

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text.empty() ? "(none)" : text;
}

std::vector<std::string> string_list(const JsonDocument& json, const ordered_json& object, const std::string& key) {
  std::vector<std::string> items;
  const ordered_json* list = json.member(object, key, &ordered_json::is_array, "a list");
  if (list == nullptr) return items;
  for (const auto& item : *list) {
    if (!item.is_string()) throw DataError(json.where(item) + ": \"" + key + "\" must list strings");
    items.push_back(item.get<std::string>());
  }
  return items;
}

std::string fill_text(const SchemaColumn& c) {
  if (c.fill_level) return "'" + *c.fill_level + "'";
  return c.fill ? significant(*c.fill, 9) : "none";
}

// A column's "fill" (schema.hpp): a number a float32 holds for a numeric
// column, one of the levels for a categorical one, absent otherwise.
void read_fill(const JsonDocument& json, const ordered_json& item, SchemaColumn& column) {
  const auto found = item.find("fill");
  if (found == item.end() || found->is_null()) return;
  const ordered_json& fill = *found;
  const std::string at = json.where(fill) + ": column '" + column.name + "': \"fill\" ";
  if (column.kind == SchemaColumn::Kind::numeric) {
    if (!fill.is_number()) throw DataError(at + "must be a number");
    const double value = fill.get<double>();
    if (!(std::abs(value) <= double(std::numeric_limits<float>::max())))
      throw DataError(at + "must be a finite number a float32 holds");
    column.fill = double(float(value));
  } else if (column.kind == SchemaColumn::Kind::categorical) {
    if (!fill.is_string()) throw DataError(at + "must be a string, one of the levels");
    const std::string level = fill.get<std::string>();
    if (std::find(column.levels.begin(), column.levels.end(), level) == column.levels.end())
      throw DataError(at + "'" + level + "' is not one of its levels (" + joined(column.levels) + ")");
    column.fill_level = level;
  } else {
    throw DataError(at + "belongs to numeric and categorical columns only");
  }
}

}  // namespace

std::vector<std::string> InputSchema::feature_names() const {
  std::vector<std::string> names;
  for (const auto& c : columns) {
    if (c.kind == SchemaColumn::Kind::numeric) names.push_back(c.name);
    if (c.kind == SchemaColumn::Kind::categorical)
      for (const auto& level : c.levels) names.push_back(c.name + "=" + level);
  }
  return names;
}

std::size_t InputSchema::feature_count() const { return feature_names().size(); }

std::string InputSchema::json() const {
  ordered_json list = ordered_json::array();
  for (const auto& c : columns) {
    ordered_json column = {{"name", c.name}, {"kind", kind_name(c.kind)}};
    if (c.kind == SchemaColumn::Kind::categorical) column["levels"] = c.levels;
    if (c.fill) column["fill"] = *c.fill;
    if (c.fill_level) column["fill"] = *c.fill_level;
    list.push_back(column);
  }
  ordered_json schema = {{"columns", list}};
  if (!label.empty())
    schema["label"] = {{"name", label},
                       {"task", task == Task::classification ? "classification" : "regression"},
                       {"classes", classes}};
  return json_text(schema);
}

InputSchema InputSchema::from_json(const std::string& text, const std::string& source) {
  const JsonDocument json = read_json(text, source);
  json.require_object();
  InputSchema schema;
  const ordered_json* columns = json.member(json.value(), "columns", &ordered_json::is_array, "a list");
  if (columns == nullptr) throw DataError(source + " line 1: the schema has no \"columns\"");
  for (const auto& item : *columns) {
    if (!item.is_object()) throw DataError(json.where(item) + ": a column must be an object {\"name\", \"kind\"}");
    const ordered_json* name = json.member(item, "name", &ordered_json::is_string, "a string");
    const ordered_json* kind = json.member(item, "kind", &ordered_json::is_string, "a string");
    if (name == nullptr || kind == nullptr) throw DataError(json.where(item) + ": a column needs \"name\" and \"kind\"");
    SchemaColumn column;
    column.name = name->get<std::string>();
    const auto known = std::find(std::begin(kKindNames), std::end(kKindNames), kind->get<std::string>());
    if (known == std::end(kKindNames))
      throw DataError(json.where(*kind) + ": unknown column kind '" + kind->get<std::string>() +
                      "' (expected numeric, categorical, id, ignored or label)");
    column.kind = SchemaColumn::Kind(known - std::begin(kKindNames));
    column.levels = string_list(json, item, "levels");
    if (column.kind == SchemaColumn::Kind::categorical && column.levels.empty())
      throw DataError(json.where(item) + ": categorical column '" + column.name + "' lists no levels");
    read_fill(json, item, column);
    schema.columns.push_back(std::move(column));
  }
  if (const ordered_json* label = json.member(json.value(), "label", &ordered_json::is_object, "an object")) {
    const ordered_json* name = json.member(*label, "name", &ordered_json::is_string, "a string");
    const ordered_json* task = json.member(*label, "task", &ordered_json::is_string, "a string");
    if (name == nullptr || task == nullptr || (*task != "classification" && *task != "regression"))
      throw DataError(json.where(*label) + ": \"label\" needs \"name\" and \"task\" (classification or regression)");
    schema.label = name->get<std::string>();
    schema.task = *task == "classification" ? Task::classification : Task::regression;
    schema.classes = string_list(json, *label, "classes");
  }
  return schema;
}

std::optional<InputSchema> read_file_schema(const std::string& path) {
  const h5::Handle file = h5::open_file(path);
  const std::optional<std::string> text = h5::read_string_attribute(file.get(), "schema", path);
  if (!text) return std::nullopt;
  return InputSchema::from_json(*text, path + ": attribute schema");
}

std::string schema_difference(const InputSchema& expected, const InputSchema& got) {
  std::vector<const SchemaColumn*> want, have;
  for (const auto& c : expected.columns)
    if (c.is_feature()) want.push_back(&c);
  for (const auto& c : got.columns)
    if (c.is_feature()) have.push_back(&c);
  for (std::size_t i = 0; i < std::max(want.size(), have.size()); ++i) {
    if (i >= have.size()) return "column '" + want[i]->name + "' is missing";
    if (i >= want.size()) return "column '" + have[i]->name + "' is not an input of the model";
    const SchemaColumn &a = *want[i], &b = *have[i];
    if (a.name != b.name) return "column '" + a.name + "' expected, found '" + b.name + "' (input " + std::to_string(i + 1) + ")";
    if (a.kind != b.kind)
      return "column '" + a.name + "' is " + kind_name(b.kind) + " here but " + kind_name(a.kind) + " for the model";
    if (a.levels != b.levels)
      return "column '" + a.name + "' has levels " + joined(b.levels) + " here but " + joined(a.levels) +
             " for the model";
    // Missing cells filled otherwise than the model's would be (a table
    // imported with its own --missing mean, not with --schema-from).
    if (b.has_fill() && (a.fill != b.fill || a.fill_level != b.fill_level))
      return "column '" + a.name + "' fills missing cells with " + fill_text(b) + " here but " +
             (a.has_fill() ? fill_text(a) : "none") + " for the model";
  }
  return "";
}

}  // namespace sinapsis
