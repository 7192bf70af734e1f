// sinapsis data make | shard | import | inspect: making, splitting,
// importing and looking at data-set files.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <numeric>

#include "core/dataset.hpp"
#include "core/memory.hpp"
#include "core/random.hpp"

#include "io/data_file.hpp"
#include "io/inspect.hpp"
#include "io/importers.hpp"
#include "io/playground.hpp"
#include "io/schema.hpp"
#include "io/shards.hpp"
#include "launch/memory_check.hpp"
#include "launch/options.hpp"
#include "launch/output_paths.hpp"

namespace sinapsis::cli {
namespace {

struct MakeOptions {
  std::string dataset, out;
  std::size_t samples = 0;
  double noise = 0;
  std::uint64_t seed = 1;
  bool overwrite = false;
};

void describe(po::options_description& o, MakeOptions& v) {
  o.add_options()
    ("dataset", po::value(&v.dataset)->required(), "circle|xor|gauss|spiral|reg-plane|reg-gauss (TensorFlow Playground)")
    ("samples", number(&v.samples)->default_value(0), "number of points (0: the Playground's 500 to classify, 1200 to regress)")
    ("noise", number(&v.noise, closed(0, 0.5))->default_value(0), "noise in [0, 0.5] (the Playground's slider 0-50 divided by 100)")
    ("seed", number(&v.seed)->default_value(v.seed), "random seed")
    ("out", po::value(&v.out)->required(), "output HDF5 file")
    ("overwrite", po::bool_switch(&v.overwrite), "replace --out if it exists");
}

int make(const Args& args) {
  po::options_description options("sinapsis data make options");
  MakeOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("data make", args, options, values, "--dataset NAME --out FILE.h5 [options]")) return kExitSuccess;
  const std::string &dataset = v.dataset, &out = v.out;
  std::size_t samples = v.samples;
  const double noise = v.noise;
  const std::uint64_t seed = v.seed;
  const PlaygroundSet set = parse_playground_set(dataset, "--dataset");
  refuse_existing_output({"--out", out}, v.overwrite);
  if (samples == 0) samples = playground_default_samples(set);
  // Two float features and a label per point, and as much again written out.
  require_memory(checked_product({samples, 2 * (2 * sizeof(float) + sizeof(std::int64_t))}),
                 option_text("samples", std::to_string(samples)), std::to_string(samples) + " points");
  Dataset data = make_playground(set, samples, noise, seed);
  data.feature_names = {"x1", "x2"};
  if (data.task == Task::classification) data.class_names = {"-1", "+1"};
  data.generator = std::string(playground_set_name(set));
  write_data_file(out, data, {false, {{"samples", double(samples)}, {"noise", noise}, {"seed", double(seed)}}, {}});
  std::cout << "wrote " << out << ": " << samples << " points of " << dataset << ", noise " << noise
            << ", seed " << seed << std::endl;
  return kExitSuccess;
}

struct ShardOptions {
  std::string input, out_dir, name;
  std::size_t shards = 0, chunk_rows = 256;
  std::uint64_t seed = 1;
  bool keep_order = false, overwrite = false;
};

void describe(po::options_description& o, ShardOptions& v) {
  o.add_options()
    ("input", po::value(&v.input)->required(), "data file to split")
    ("shards", number(&v.shards, at_least(1))->required(), "number of shards (>= 1, at most the rows)")
    ("seed", number(&v.seed)->default_value(v.seed), "seed of the row shuffle before splitting")
    ("keep-order", po::bool_switch(&v.keep_order), "split the rows in file order (default: shuffled, so every shard is a fair sample)")
    ("out-dir", po::value(&v.out_dir)->required(), "directory for NAME-00000-of-0000S.h5 ... and NAME-index.csv")
    ("name", po::value(&v.name), "shard name (default: the input file's name)")
    ("chunk-rows", number(&v.chunk_rows, at_least(1))->default_value(v.chunk_rows),
     "rows per compressed chunk: streamed training (--data-in-memory off) with a --shuffle-block that is a multiple of it inflates each chunk once an epoch (default: the default --shuffle-block)")
    ("overwrite", po::bool_switch(&v.overwrite), "replace the shard set already in --out-dir");
}

int shard(const Args& args) {
  po::options_description options("sinapsis data shard options");
  ShardOptions v;
  describe(options, v);
  po::positional_options_description positional;
  positional.add("input", 1);
  po::variables_map values;
  if (!parse("data shard", args, options, values, "IN.h5 --shards S --out-dir DIR", &positional)) return kExitSuccess;
  const std::string &input = v.input, &out_dir = v.out_dir;
  std::string name = v.name;
  const std::size_t shards = v.shards;
  refuse_output_over_inputs({"--out-dir", out_dir}, {{"--input", input}});
  if (name.empty()) name = std::filesystem::path(input).stem().string();
  Dataset data = read_data_file(input);
  if (!v.keep_order) {
    // Files are often sorted (by class, by time): shuffle so that every shard,
    // and so every rank's part, is a sample of the whole.
    std::vector<std::size_t> rows(data.size());
    std::iota(rows.begin(), rows.end(), std::size_t{0});
    Rng rng(derive_seed({v.seed, std::uint64_t(Stream::shard)}));
    shuffle(rows, rng);
    data = select_rows(data, rows);
  }
  const auto paths = write_shards(data, name, shards, out_dir, v.overwrite, v.chunk_rows);
  std::cout << "wrote " << paths.size() << " shards of " << input << " (" << data.size() << " rows) to " << out_dir
            << std::endl;
  return kExitSuccess;
}

LabelTask parse_label_task(const std::string& text) {
  if (text == "auto") return LabelTask::automatic;
  if (text == "classification") return LabelTask::classification;
  if (text == "regression") return LabelTask::regression;
  throw UsageError("--task: unknown value '" + text + "' (expected auto, classification or regression)");
}

struct ImportOptions {
  std::string format, images, labels, input, label_column, out, class_names, ignore, task = "auto";
  std::string id, schema_from, unknown_level = "error", delimiter = "auto", decimal = "auto", missing;
  std::size_t max_levels = kDefaultMaxLevels;
  bool overwrite = false;
};

void describe(po::options_description& o, ImportOptions& v) {
  o.add_options()
    ("format", po::value(&v.format)->required(), "idx|csv")
    ("images", po::value(&v.images), "idx: the images file (gzipped or not)")
    ("labels", po::value(&v.labels), "idx: the labels file (gzipped or not)")
    ("input", po::value(&v.input), "csv: the CSV file (header row first)")
    ("label", po::value(&v.label_column), "csv: the name of the label column (none: data to predict on)")
    ("ignore", po::value(&v.ignore), "csv: comma-separated columns to leave out (free text, ...)")
    ("id", po::value(&v.id), "csv: a column of row ids, stored with the data (/ids) and carried to predict's output")
    ("schema-from", po::value(&v.schema_from),
     "csv: encode exactly like the data or model file given (its input schema: columns by name, the same "
     "one-hot levels in the same order, the same class ids)")
    ("unknown-level", po::value(&v.unknown_level)->default_value(v.unknown_level),
     "csv with --schema-from: error|ignore, for a categorical value the schema has no level for (ignore: all "
     "zeros, counted)")
    ("decimal", po::value(&v.decimal)->default_value(v.decimal),
     "csv: auto|.|, the decimal separator of its numbers (, : 1,5 as in many European tables, with ';' or tab "
     "between fields; auto: '.', and a column that is numeric only with ',' is refused, not made categories)")
    ("delimiter", po::value(&v.delimiter)->default_value(v.delimiter),
     "csv: auto|,|;|tab|'|' (auto: ',', ';' or tab, found from the header and checked on the next lines)")
    ("missing", po::value(&v.missing),
     "csv: error|drop|mean|VALUE for missing cells (empty, NA, N/A, n/a, #N/A, NaN, nan, null, NULL, ?): refuse "
     "naming the cell (default), drop the row, or fill with the column's mean or VALUE (a categorical column: its "
     "most frequent level); the fills are recorded in the schema. With --schema-from: the schema's fills "
     "(default; a column without one refused), error or drop")
    ("max-levels", number(&v.max_levels, at_least(1))->default_value(v.max_levels),
     "csv: the most distinct values a categorical column may have (more: refused, an id or free text? --ignore it)")
    ("task", po::value(&v.task)->default_value(v.task), "csv: auto|classification|regression (auto: whole numbers >= 0 are class ids)")
    ("class-names", po::value(&v.class_names), "comma-separated class names to store (e.g. Fashion-MNIST's)")
    ("out", po::value(&v.out)->required(), "output HDF5 file")
    ("overwrite", po::bool_switch(&v.overwrite), "replace --out if it exists");
}

// The input schema a data or model file records (--schema-from).
InputSchema schema_of(const std::string& path) {
  std::optional<InputSchema> schema = read_file_schema(path);
  if (!schema)
    throw UsageError("--schema-from: " + path + " records no input schema (a data file imported from a CSV by this "
                     "version, or a model trained on one)");
  return std::move(*schema);
}

CsvImport import_table(const ImportOptions& v, LabelTask task, std::size_t declared_classes) {
  if (v.input.empty()) throw UsageError("--format csv needs --input");
  if (v.unknown_level != "error" && v.unknown_level != "ignore")
    throw UsageError("--unknown-level: unknown value '" + v.unknown_level + "' (expected error or ignore)");
  CsvOptions csv;
  csv.label = v.label_column;
  csv.ignored = v.ignore.empty() ? std::vector<std::string>{} : parse_name_list(v.ignore);
  csv.id = v.id;
  csv.task = task;
  csv.declared_classes = declared_classes;
  csv.unknown_level = v.unknown_level == "ignore" ? UnknownLevel::ignore : UnknownLevel::error;
  csv.delimiter = parse_delimiter(v.delimiter, "--delimiter");
  csv.decimal = parse_decimal(v.decimal, "--decimal");
  csv.max_levels = v.max_levels;
  // With a schema, missing cells take its fills unless told otherwise:
  // the imputation was fitted with the training table.
  csv.missing.policy = v.schema_from.empty() ? MissingPolicy::error : MissingPolicy::mean;
  if (!v.missing.empty()) csv.missing = parse_missing(v.missing, "--missing");
  std::optional<InputSchema> schema;
  if (!v.schema_from.empty()) {
    if (!v.label_column.empty() || !v.ignore.empty())
      throw UsageError("--schema-from gives the columns and the label: drop --label and --ignore");
    schema = schema_of(v.schema_from);
    csv.schema = &*schema;
    csv.schema_source = v.schema_from;
  }
  return import_csv(v.input, csv);
}

int import(const Args& args) {
  po::options_description options("sinapsis data import options");
  ImportOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("data import", args, options, values, "--format idx|csv ... --out FILE.h5")) return kExitSuccess;
  const std::string &format = v.format, &images = v.images, &labels = v.labels, &input = v.input, &out = v.out,
                    &class_names = v.class_names;
  refuse_output_over_inputs({"--out", out},
                            {{"--images", images}, {"--labels", labels}, {"--input", input}, {"--schema-from", v.schema_from}});
  refuse_existing_output({"--out", out}, v.overwrite);
  const std::vector<std::string> names =
      class_names.empty() ? std::vector<std::string>{} : parse_name_list(class_names);
  if (names.size() > kMaxClasses)
    throw UsageError("--class-names: " + std::to_string(names.size()) + " names, more than the " +
                     std::to_string(kMaxClasses) + " classes sinapsis takes");
  const LabelTask label_task = parse_label_task(v.task);
  Dataset data;
  std::optional<CsvImport> csv;  // what the CSV import did, told once the output is written
  if (format == "idx") {
    if (images.empty() || labels.empty()) throw UsageError("--format idx needs --images and --labels");
    data = import_idx(images, labels, names.size());
  } else if (format == "csv") {
    csv = import_table(v, label_task, names.size());
    data = std::move(csv->data);
  } else {
    throw UsageError("--format: unknown format '" + format + "' (expected idx or csv)");
  }
  if (!names.empty()) {
    data.class_names = names;
    if (data.task != Task::classification || data.class_names.size() < data.classes)
      throw UsageError("--class-names: " + std::to_string(data.class_names.size()) + " names for " +
                       std::to_string(data.classes) + " classes");
    data.classes = data.class_names.size();
  }
  write_data_file(out, data, {data.size() * data.dimension() > (1u << 20), {}, {{"source", format}}});
  if (csv) {
    std::cout << csv_import_notes(input, *csv);
    if (csv->unknown_levels > 0)
      std::cout << "warning: " << csv->unknown_levels << " value(s) of categorical columns have no level in "
                << v.schema_from << "; encoded as all zeros (--unknown-level ignore)\n";
  }
  std::cout << "wrote " << out << ": " << data.size() << " samples, " << data.dimension() << " features"
            << (!data.labels_present ? ", no labels"
                : data.task == Task::classification ? ", " + std::to_string(data.classes) + " classes"
                                                     : "")
            << std::endl;
  return kExitSuccess;
}

struct InspectOptions {
  std::string input;
  std::size_t columns = 8;
};

void describe(po::options_description& o, InspectOptions& v) {
  o.add_options()
    ("input", po::value(&v.input)->required(), "data file, shard directory or glob")
    ("columns", number(&v.columns)->default_value(v.columns), "features to summarize");
}

int inspect(const Args& args) {
  po::options_description options("sinapsis data inspect options");
  InspectOptions asked;
  describe(options, asked);
  po::positional_options_description positional;
  positional.add("input", 1);
  po::variables_map values;
  if (!parse("data inspect", args, options, values, "FILE.h5", &positional)) return kExitSuccess;
  const std::string& input = asked.input;
  const std::size_t show = asked.columns;
  const DataSource source = open_data_source(input);
  const StoredLayout stored = stored_layout(source);
  std::cout << input << ": " << source.total_rows() << " samples x " << source.dimension << " features";
  if (source.files.size() > 1) std::cout << " in " << source.files.size() << " shards";
  std::cout << "\n  /features " << stored.features.type << ", " << stored.features.layout << "\n";
  if (stored.labels) std::cout << "  /labels   " << stored.labels->type << ", " << stored.labels->layout << "\n";
  // Counts of non-finite values come from the raw values: read without the
  // reader's refusal, file by file.
  std::size_t nan = 0, inf = 0;
  std::vector<double> sum(source.dimension, 0), low(source.dimension, INFINITY), high(source.dimension, -INFINITY);
  for_each_raw_features(source, [&](std::span<const float> cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const float v = cells[i];
      if (std::isnan(v)) { ++nan; continue; }
      if (std::isinf(v)) { ++inf; continue; }
      const std::size_t c = i % source.dimension;
      sum[c] += v;
      low[c] = std::min(low[c], double(v));
      high[c] = std::max(high[c], double(v));
    }
  });
  std::cout << "  non-finite feature values: " << nan << " NaN, " << inf << " Inf\n";
  const Dataset data = nan + inf == 0 ? read_data_file(input, LabelsRequired::no) : Dataset{};
  {
    std::cout << "  " << std::left << std::setw(24) << "feature" << std::right << std::setw(12) << "min" << " "
              << std::setw(12) << "max" << " " << std::setw(12) << "mean" << "\n";
    for (std::size_t c = 0; c < std::min(show, source.dimension); ++c) {
      const std::string name = c < data.feature_names.size() ? data.feature_names[c] : "f" + std::to_string(c);
      std::cout << "  " << std::left << std::setw(24) << name << std::right << std::setw(12) << low[c]
                << " " << std::setw(12) << high[c] << " " << std::setw(12) << sum[c] / double(source.total_rows()) << "\n";
    }
    if (source.dimension > show) std::cout << "  ... (" << source.dimension - show << " more)\n";
  }
  if (data.task == Task::classification && !data.labels.empty()) {
    std::map<std::int64_t, std::size_t> counts;
    for (auto l : data.labels) ++counts[l];
    std::cout << "  classes: " << data.classes << "\n";
    for (const auto& [label, count] : counts)
      std::cout << "    " << label << (std::size_t(label) < data.class_names.size() ? " (" + data.class_names[std::size_t(label)] + ")" : "")
                << ": " << count << "\n";
  } else if (data.task == Task::regression) {
    std::cout << "  regression targets: " << data.targets.cols << " column(s)\n";
  }
  if (!data.generator.empty()) std::cout << "  made by: data make --dataset " << data.generator << "\n";
  std::cout << std::flush;
  return kExitSuccess;
}

struct SubsetOptions {
  std::string input, rows, classes, out;
  double fraction = 0;
  std::uint64_t seed = 1;
  bool overwrite = false;
};

void describe(po::options_description& o, SubsetOptions& v) {
  o.add_options()
    ("input", po::value(&v.input)->required(), "the data set (a file, shard directory or glob)")
    ("rows", po::value(&v.rows), "A:B: rows A to B-1 (counted from 0, after --classes)")
    ("fraction", number(&v.fraction, open_closed(0, 1)), "a seeded random fraction of the rows, in (0, 1], in file order")
    ("seed", number(&v.seed)->default_value(v.seed), "seed of --fraction")
    ("classes", po::value(&v.classes), "comma-separated classes to keep, by name (or id); class ids are kept as they are")
    ("out", po::value(&v.out)->required(), "output HDF5 file (with the data's names, schema and ids)")
    ("overwrite", po::bool_switch(&v.overwrite), "replace --out if it exists");
}

// The rows of `data` whose class is one of `names` (names or ids).
std::vector<std::size_t> rows_of_classes(const Dataset& data, const std::string& names, const std::string& source) {
  if (data.task != Task::classification || data.labels.empty())
    throw UsageError("--classes: " + source + " has no class labels");
  std::vector<bool> keep(std::max<std::size_t>(data.classes, data.class_names.size()), false);
  for (const auto& name : parse_name_list(names)) {
    const auto named = std::find(data.class_names.begin(), data.class_names.end(), name);
    std::size_t id = std::size_t(named - data.class_names.begin());
    if (named == data.class_names.end() && !read_number(name, at_least(0), id).empty()) id = keep.size();
    if (id >= keep.size())
      throw UsageError(option_text("classes", names) + ": no class '" + name + "' in " + source + " (" +
                       (data.class_names.empty() ? "ids 0.." + std::to_string(keep.size() - 1)
                                                 : std::to_string(data.class_names.size()) + " names") + ")");
    keep[id] = true;
  }
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < data.size(); ++r)
    if (keep[std::size_t(data.labels[r])]) rows.push_back(r);
  return rows;
}

int subset(const Args& args) {
  po::options_description options("sinapsis data subset options");
  SubsetOptions v;
  describe(options, v);
  po::positional_options_description positional;
  positional.add("input", 1);
  po::variables_map values;
  if (!parse("data subset", args, options, values, "FILE --rows A:B | --fraction F [--seed S] | --classes a,b --out F.h5",
             &positional))
    return kExitSuccess;
  if (v.rows.empty() && !values.count("fraction") && v.classes.empty())
    throw UsageError("data subset: give --rows A:B, --fraction F or --classes a,b");
  if (!v.rows.empty() && values.count("fraction")) throw UsageError("--rows and --fraction: choose one");
  refuse_output_over_inputs({"--out", v.out}, {{"FILE", v.input}});
  refuse_existing_output({"--out", v.out}, v.overwrite);
  const Dataset data = read_data_file(v.input, LabelsRequired::no);
  std::vector<std::size_t> rows(data.size());
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  if (!v.classes.empty()) rows = rows_of_classes(data, v.classes, v.input);
  if (!v.rows.empty()) {
    const auto colon = v.rows.find(':');
    std::size_t first = 0, end = 0;
    if (colon == std::string::npos || !read_number(v.rows.substr(0, colon), at_least(0), first).empty() ||
        !read_number(v.rows.substr(colon + 1), at_least(1), end).empty() || first >= end)
      throw UsageError(option_text("rows", v.rows) + " is not A:B with whole numbers A < B");
    if (end > rows.size())
      throw UsageError(option_text("rows", v.rows) + " ends past the " + std::to_string(rows.size()) + " rows" +
                       (v.classes.empty() ? " of " + v.input : " of those classes"));
    rows = std::vector<std::size_t>(rows.begin() + std::ptrdiff_t(first), rows.begin() + std::ptrdiff_t(end));
  }
  if (values.count("fraction")) {
    const auto count = std::size_t(std::llround(v.fraction * double(rows.size())));
    Rng rng(derive_seed({v.seed, std::uint64_t(Stream::split)}));
    shuffle(rows, rng);
    rows.resize(std::max<std::size_t>(count, 1));
    std::sort(rows.begin(), rows.end());  // in file order
  }
  if (rows.empty()) throw UsageError("data subset: no row is left (--classes " + v.classes + ")");
  const Dataset part = select_rows(data, rows);
  write_data_file(v.out, part, {part.size() * part.dimension() > (1u << 20), {}, {}});
  std::cout << "wrote " << v.out << ": " << part.size() << " of the " << data.size() << " rows of " << v.input << std::endl;
  return kExitSuccess;
}

}  // namespace

std::vector<CommandOptions> data_options() {
  return {described<MakeOptions>("data make"), described<ShardOptions>("data shard"),
          described<ImportOptions>("data import"), described<InspectOptions>("data inspect"),
          described<SubsetOptions>("data subset")};
}

int data_command(const Args& args, Communicator& /*comm*/) {
  static const std::map<std::string, int (*)(const Args&)> actions{
      {"make", make}, {"shard", shard}, {"import", import}, {"inspect", inspect}, {"subset", subset}};
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "usage: sinapsis data make|shard|import|inspect|subset [options]   (sinapsis data ACTION --help)\n";
    return args.empty() ? kExitUsage : kExitSuccess;
  }
  const auto found = actions.find(args[0]);
  if (found == actions.end())
    throw UsageError("unknown action '" + args[0] + "' (expected make, shard, import, inspect or subset)");
  return found->second(Args(args.begin() + 1, args.end()));
}

}  // namespace sinapsis::cli
