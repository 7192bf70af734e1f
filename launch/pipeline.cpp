#include "launch/pipeline.hpp"

#include <memory>

#include "core/error.hpp"
#include "core/random.hpp"
#include "io/data_file.hpp"
#include "launch/agreement.hpp"

namespace sinapsis::cli {
namespace {

void transform(const FeatureSet& features, Dataset& data, const std::string& source) {
  features.check_input(data.dimension(), source);
  if (features.raw()) return;
  data.features = features.apply(data.features);
  data.feature_names.clear();
  for (InputFeature f : features.features) data.feature_names.push_back(FeatureSet{{f}}.text());
}

// Rows given as ranges of the whole data set (in that order) as slices of its files.
std::vector<RowSlice> slices_of_ranges(const DataSource& source, const std::vector<RowRange>& ranges) {
  std::vector<RowSlice> slices;
  for (const RowRange& r : ranges) {
    const auto more = slices_of(source, r.begin, r.end);
    slices.insert(slices.end(), more.begin(), more.end());
  }
  return slices;
}

// Evaluation data (rank `rank`'s part of `source`) holds only classes of
// the training data `train_file`, which has `classes`.
void check_classes_fit(const Dataset& part, const DataSource& source, std::size_t classes,
                       const std::string& train_file, std::size_t rank, std::size_t ranks) {
  const ClassIdRule rule(classes, "the training data " + train_file, 0, source.total_rows(), source.spec);
  for (std::size_t i = 0; i < part.labels.size(); ++i)
    if (std::size_t(part.labels[i]) >= classes) {
      const RowOrigin origin = locate_part_row(source, rank, ranks, i);
      rule.check(part.labels[i], origin.row, origin.file + ": /labels");
    }
  if (part.classes > classes)  // its labels fit: it declares more classes
    throw DataError(source.spec + " declares " + std::to_string(part.classes) + " classes but the training data " +
                    train_file + " has " + std::to_string(classes));
}

}  // namespace

void DataOptions::validate() const {
  const DataOptions& o = *this;
  FeatureSet::parse(o.features, "--features");
  if (o.standardize != "auto" && o.standardize != "on" && o.standardize != "off")
    throw UsageError("--standardize: unknown value '" + o.standardize + "' (expected auto, on or off)");
  // Each split is in [0, 1) already: train declares them number(..., closed_open(0, 1)).
  if (o.val_split + o.test_split >= 1)
    throw UsageError("--val-split + --test-split must be < 1, got " + std::to_string(o.val_split + o.test_split));
  if (o.val_split > 0 && !o.val_data.empty())
    throw UsageError("--val-split and --val-data both given: choose one");
  if (o.test_split > 0 && !o.test_data.empty())
    throw UsageError("--test-split and --test-data both given: choose one");
}

PreparedData read_training_data(const DataOptions& o, std::size_t rank, std::size_t ranks) {
  PreparedData p;
  p.features = FeatureSet::parse(o.features, "--features");
  ReadOptions read_options;
  read_options.class_ids = o.class_labels;
  read_options.classes = o.classes;
  read_options.classes_from = o.classes_from;
  const auto read = [&](const std::string& spec, std::optional<DataSource>* kept = nullptr) {
    DataSource source = open_data_source(spec);
    Dataset part = read_part(source, rank, ranks, read_options);
    if (kept) *kept = std::move(source);
    return part;
  };
  if (o.streamed || o.shuffle == ShuffleMode::global) {
    DataSource source = open_data_source(o.data);
    std::size_t offset = 0;
    for (const std::size_t rows : source.rows) {
      p.train_files.push_back({offset, offset + rows});
      offset += rows;
    }
    for (const RowSlice& s : plan_part(source.rows, rank, ranks))
      p.train_part.push_back({p.train_files[s.file].begin + s.begin, p.train_files[s.file].begin + s.end});
    // --val-split, --test-split: whole blocks held out (split_blocks), this
    // rank evaluating its share of them; the rest is what trains.
    std::vector<RowRange> held_out_part;  // this rank's part's rows that do not train
    std::vector<RowRange> val_rows, test_rows;
    if (o.val_split > 0 || o.test_split > 0) {
      BlockSplit split = split_blocks(p.train_files, o.block_rows, o.val_split, o.test_split, o.seed);
      std::vector<RowRange> held_out = split.val;
      held_out.insert(held_out.end(), split.test.begin(), split.test.end());
      std::sort(held_out.begin(), held_out.end(), [](const RowRange& a, const RowRange& b) { return a.begin < b.begin; });
      held_out_part = intersect_ranges(p.train_part, held_out);
      p.train_part = intersect_ranges(p.train_part, split.train);
      p.train_files = std::move(split.train);
      val_rows = rank_share(split.val, rank, ranks);
      test_rows = rank_share(split.test, rank, ranks);
    }
    if (o.streamed) {
      // The description alone, then this rank's part a chunk at a time:
      // its labels checked, its class count (over the rows held out too)
      // and the moments of the rows it trains on.
      p.train = read_slices(source, {}, read_options);
      p.moments.emplace(p.features.raw() ? p.train.dimension() : p.features.features.size());
      std::size_t classes = p.train.classes;
      for (const auto* ranges : {&p.train_part, &held_out_part})
        for (const RowRange& r : *ranges)
          for (std::size_t b = r.begin; b < r.end; b += std::min(o.chunk_rows, r.end - b)) {
            Dataset chunk = read_slices(source, slices_of(source, b, b + std::min(o.chunk_rows, r.end - b)),
                                        read_options);
            classes = std::max(classes, chunk.classes);
            if (ranges == &held_out_part) continue;
            transform(p.features, chunk, o.data);
            p.moments->add(chunk.features.values.data(), chunk.size(), chunk.dimension());
          }
      p.train.classes = classes;
      const auto held_out_data = [&](std::optional<Dataset>& data, std::optional<DataSource>& kept,
                                     std::vector<RowSlice>& part, const std::vector<RowRange>& rows) {
        data = read_slices(source, {}, read_options);
        data->classes = classes;
        kept = source;
        part = slices_of_ranges(source, rows);
      };
      if (o.val_split > 0) held_out_data(p.val, p.val_source, p.val_part, val_rows);
      if (o.test_split > 0) held_out_data(p.test, p.test_source, p.test_part, test_rows);
    } else {
      p.train = read_part(source, 0, 1, read_options);  // every rank holds the whole data set
      const auto rows_of = [](const std::vector<RowRange>& ranges) {
        std::vector<std::size_t> rows;
        for (const RowRange& r : ranges)
          for (std::size_t i = r.begin; i < r.end; ++i) rows.push_back(i);
        return rows;
      };
      if (o.val_split > 0) p.val = select_rows(p.train, rows_of(val_rows));
      if (o.test_split > 0) p.test = select_rows(p.train, rows_of(test_rows));
    }
    p.train_source = std::move(source);
  } else if (Dataset all = read(o.data); o.val_split > 0 || o.test_split > 0) {
    SplitData parts = split_dataset(all, o.val_split, o.test_split, derive_seed({o.seed, rank}));
    p.train = std::move(parts.train);
    if (o.val_split > 0) p.val = std::move(parts.val);
    if (o.test_split > 0) p.test = std::move(parts.test);
  } else {
    p.train = std::move(all);
  }
  // Streamed training streams its evaluation data too: the description
  // here, the rows at each evaluation (evaluation_reader).
  const auto read_eval = [&](const std::string& spec, std::optional<DataSource>& kept, std::vector<RowSlice>& part) {
    if (!o.streamed) return read(spec, &kept);
    kept = open_data_source(spec);
    part = plan_part(kept->rows, rank, ranks);
    return read_slices(*kept, {}, read_options);
  };
  if (!o.val_data.empty()) p.val = read_eval(o.val_data, p.val_source, p.val_part);
  if (!o.test_data.empty()) p.test = read_eval(o.test_data, p.test_source, p.test_part);

  const auto check_schema = [&](const Dataset& d, const std::string& file) {
    if (d.dimension() != p.train.dimension())
      throw DataError(file + ": /features has " + std::to_string(d.dimension()) + " columns but " + o.data +
                      " has " + std::to_string(p.train.dimension()));
    if (d.task != p.train.task)
      throw DataError(file + ": /labels holds " + (d.task == Task::classification ? "class ids" : "real targets") +
                      " but " + o.data + " holds " + (p.train.task == Task::classification ? "class ids" : "real targets"));
    // Class 3 must mean the same class in both files.
    for (std::size_t k = 0; k < std::min(d.class_names.size(), p.train.class_names.size()); ++k)
      if (d.class_names[k] != p.train.class_names[k])
        throw DataError(file + ": class " + std::to_string(k) + " is named '" + d.class_names[k] + "' but in " +
                        o.data + " it is '" + p.train.class_names[k] + "' (class ids must mean the same classes)");
  };
  if (!o.val_data.empty()) check_schema(*p.val, o.val_data);
  if (!o.test_data.empty()) check_schema(*p.test, o.test_data);

  transform(p.features, p.train, o.data);
  if (p.train_source && !o.streamed) {  // held whole on every rank: the moments are this rank's part's
    p.moments.emplace(p.train.dimension());
    for (const RowRange& r : p.train_part)
      p.moments->add(p.train.features.values.data() + r.begin * p.train.dimension(), r.size(), p.train.dimension());
  }
  if (p.val) transform(p.features, *p.val, o.val_data.empty() ? o.data : o.val_data);
  if (p.test) transform(p.features, *p.test, o.test_data.empty() ? o.data : o.test_data);
  return p;
}

void finish_training_data(PreparedData& p, const DataOptions& o, Communicator& comm, const Standardizer* fixed) {
  // The collectives below sum per-column statistics: every rank must hold
  // data of one schema first, or the sums would not even match in length.
  std::string schema = "features " + std::to_string(p.train.dimension()) + " (" + p.features.text() + "), " +
                       (p.train.task == Task::classification ? "class ids"
                                                              : std::to_string(p.train.targets.cols) + " real targets");
  for (const auto& [name, part] : {std::pair{"validation", &p.val}, std::pair{"test", &p.test}})
    schema += std::string(", ") + (*part ? "" : "no ") + name + " data";
  require_same_on_every_rank(comm, "on the data", schema);
  // Each rank saw only its part of the training labels: the class count is
  // the largest of all, and the evaluation data must fit it.
  if (p.train.task == Task::classification) {
    const auto classes = std::size_t(comm.allreduce(std::int64_t(p.train.classes), ReduceOp::max));
    agree(comm, [&] {
      const auto rank = std::size_t(comm.rank()), ranks = std::size_t(comm.size());
      for (const auto& [part, source, rows] : {std::tuple{&p.val, &p.val_source, &p.val_part},
                                                std::tuple{&p.test, &p.test_source, &p.test_part}}) {
        if (!*source) continue;
        if (!o.streamed) {
          check_classes_fit(**part, **source, classes, o.data, rank, ranks);
          continue;
        }
        // Streamed: this rank's part read a chunk at a time, its labels checked as read.
        if ((*part)->classes > classes)
          throw DataError((*source)->spec + " declares " + std::to_string((*part)->classes) +
                          " classes but the training data " + o.data + " has " + std::to_string(classes));
        ReadOptions fit;
        fit.class_ids = o.class_labels;
        fit.classes = classes;
        fit.classes_from = "the training data " + o.data;
        fit.described = &**part;
        for (const RowSlice& s : *rows)
          for (std::size_t b = s.begin; b < s.end; b += o.chunk_rows)
            read_slices(**source, {{s.file, b, std::min(s.end, b + o.chunk_rows)}}, fit);
      }
    });
    for (Dataset* part : {&p.train, p.val ? &*p.val : nullptr, p.test ? &*p.test : nullptr})
      if (part) part->classes = classes;
  }
  // Playground data is used at its own scale, as the Playground does;
  // anything else is standardized unless told otherwise.
  const bool standardize = o.standardize == "on" || (o.standardize == "auto" && p.train.generator.empty());
  if (fixed) {
    p.standardizer = *fixed;
  } else if (standardize) {
    const auto sum = [&](std::span<double> values) { comm.allreduce(values, ReduceOp::sum); };
    p.standardizer = p.moments ? p.moments->finish(sum) : Standardizer::fit(p.train.features, sum);
  }
  if (p.standardizer.active()) {
    p.standardizer.apply(p.train.features);
    if (p.val) p.standardizer.apply(p.val->features);
    if (p.test) p.standardizer.apply(p.test->features);
  }
}

namespace {

// Rows of a streamed data set as the model trains on them: read (files kept
// open between reads), input features, standardization, targets encoded.
struct RowDecoder {
  DataSource source;
  std::string spec;
  FeatureSet features;
  Standardizer standardizer;
  ReadOptions read_options;
  std::shared_ptr<Dataset> described;  // task and classes: the rows alone are read
  std::shared_ptr<OpenFiles> files;
  Loss loss;
  Activation output;
  std::size_t outputs = 0;

  RowDecoder(DataSource source_, std::string spec_, const PreparedData& p, const DataOptions& o, Loss loss_,
             Activation output_, std::size_t outputs_)
      : source(std::move(source_)),
        spec(std::move(spec_)),
        features(p.features),
        standardizer(p.standardizer),
        described(std::make_shared<Dataset>()),
        files(std::make_shared<OpenFiles>()),
        loss(loss_),
        output(output_),
        outputs(outputs_) {
    read_options.class_ids = o.class_labels;
    read_options.classes = p.train.task == Task::classification ? p.train.classes : 0;
    read_options.classes_from = "the training data's class count";
    read_options.described = described.get();
    read_options.open_files = files.get();
    described->task = p.train.task;
    described->classes = p.train.classes;
  }

  EncodedData<float> operator()(const std::vector<RowSlice>& slices, std::size_t rows, std::size_t inputs) const {
    Dataset d = read_slices(source, slices, read_options);
    transform(features, d, spec);
    standardizer.apply(d.features);
    if (d.task == Task::classification) d.classes = described->classes;
    if (d.size() != rows || d.dimension() != inputs)
      throw DataError(spec + ": " + std::to_string(rows) + " rows read as " + std::to_string(d.size()) + " x " +
                      std::to_string(d.dimension()) + ", not the shape the data had when training began");
    return encode_moving(std::move(d), loss, output, outputs, spec);
  }
};

// Rows [first, first + n) of a part given as slices.
std::vector<RowSlice> cut_part(const std::vector<RowSlice>& part, std::size_t first, std::size_t n) {
  std::vector<RowSlice> cut;
  for (const RowSlice& s : part) {
    const std::size_t size = s.end - s.begin;
    if (first >= size) {
      first -= size;
      continue;
    }
    const std::size_t take = std::min(size - first, n);
    cut.push_back({s.file, s.begin + first, s.begin + first + take});
    n -= take;
    first = 0;
    if (n == 0) break;
  }
  return cut;
}

}  // namespace

StreamedBatches<float>::Reader training_reader(const PreparedData& p, const DataOptions& o, Loss loss,
                                               Activation output, std::size_t outputs) {
  return [decode = RowDecoder(*p.train_source, o.data, p, o, loss, output, outputs)](
             const std::vector<RowRange>& ranges, MatrixView<float> x, MatrixView<float> t) {
    // One read for the chunk: the rows in the ranges' order.
    const std::size_t rows = rows_in(ranges);
    if (rows > x.rows) throw DataError(decode.spec + ": " + std::to_string(rows) + " rows asked of a chunk of " +
                                       std::to_string(x.rows));
    const EncodedData<float> e = decode(slices_of_ranges(decode.source, ranges), rows, x.cols);
    std::copy(e.features.values.begin(), e.features.values.end(), x.row(0));
    std::copy(e.targets.values.begin(), e.targets.values.end(), t.row(0));
  };
}

std::optional<StreamedEvaluation<float>> evaluation_reader(const PreparedData& p, const DataOptions& o,
                                                           const std::string& which, Loss loss, Activation output,
                                                           std::size_t outputs) {
  const bool val = which == "val";
  const std::optional<DataSource>& source = val ? p.val_source : p.test_source;
  if (!o.streamed || !source) return std::nullopt;
  const std::vector<RowSlice>& part = val ? p.val_part : p.test_part;
  StreamedEvaluation<float> e;
  for (const RowSlice& s : part) e.rows += s.end - s.begin;
  e.chunk_rows = std::max<std::size_t>(1, o.chunk_rows / 2);  // beside the training chunk, within the budget
  e.classes = p.train.task == Task::classification;
  const std::size_t inputs = p.features.raw() ? source->dimension : p.features.features.size();
  e.read = [decode = RowDecoder(*source, val ? o.val_data : o.test_data, p, o, loss, output, outputs), part,
            inputs](std::size_t first, std::size_t n) { return decode(cut_part(part, first, n), n, inputs); };
  return e;
}

void apply_model_preprocessing(const ModelFile& model, Dataset& data, const std::string& source) {
  const FeatureSet features = FeatureSet::parse(model.features, "model attribute features");
  transform(features, data, source);
  if (data.dimension() != model.model.architecture().inputs())
    throw DataError(source + ": /features has " + std::to_string(data.dimension()) +
                    (features.raw() ? " columns" : " input features") + " but the model takes " +
                    std::to_string(model.model.architecture().inputs()) + " inputs");
  model.standardizer.apply(data.features);
}

}  // namespace sinapsis::cli
