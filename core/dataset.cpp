#include "core/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/random.hpp"

namespace sinapsis {

Dataset select_rows(const Dataset& data, const std::vector<std::size_t>& rows) {
  Dataset out;
  out.task = data.task;
  out.classes = data.classes;
  out.feature_names = data.feature_names;
  out.class_names = data.class_names;
  out.generator = data.generator;
  out.schema = data.schema;
  out.labels_present = data.labels_present;
  out.feature_storage = data.feature_storage;
  if (!data.ids.empty())
    for (std::size_t r : rows) out.ids.push_back(data.ids[r]);
  const std::size_t d = data.dimension();
  out.features = Matrix<float>(rows.size(), d);
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::copy_n(data.features.values.begin() + std::ptrdiff_t(rows[i] * d), d,
                out.features.values.begin() + std::ptrdiff_t(i * d));
  if (data.task == Task::classification) {
    if (!data.labels.empty())
      for (std::size_t r : rows) out.labels.push_back(data.labels[r]);
  } else {
    const std::size_t k = data.targets.cols;
    out.targets = Matrix<float>(rows.size(), k);
    for (std::size_t i = 0; i < rows.size(); ++i)
      std::copy_n(data.targets.values.begin() + std::ptrdiff_t(rows[i] * k), k,
                  out.targets.values.begin() + std::ptrdiff_t(i * k));
  }
  return out;
}

SplitData split_dataset(const Dataset& data, double val_fraction, double test_fraction, std::uint64_t seed) {
  if (!(val_fraction >= 0 && val_fraction < 1))
    throw UsageError("--val-split must be in [0, 1), got " + std::to_string(val_fraction));
  if (!(test_fraction >= 0 && test_fraction < 1))
    throw UsageError("--test-split must be in [0, 1), got " + std::to_string(test_fraction));
  if (val_fraction + test_fraction >= 1)
    throw UsageError("--val-split + --test-split must be < 1, got " + std::to_string(val_fraction + test_fraction));
  // Strata: one per class, or one for regression.
  const bool stratify = data.task == Task::classification && !data.labels.empty();
  std::vector<std::vector<std::size_t>> strata(stratify ? data.classes : 1);
  for (std::size_t r = 0; r < data.size(); ++r) strata[stratify ? std::size_t(data.labels[r]) : 0].push_back(r);
  std::vector<std::size_t> train, val, test;
  Rng rng(derive_seed({seed, std::uint64_t(Stream::split)}));
  for (auto& rows : strata) {
    shuffle(rows, rng);
    const auto n_test = std::size_t(std::llround(double(rows.size()) * test_fraction));
    const auto n_val = std::min(rows.size() - n_test, std::size_t(std::llround(double(rows.size()) * val_fraction)));
    test.insert(test.end(), rows.begin(), rows.begin() + std::ptrdiff_t(n_test));
    val.insert(val.end(), rows.begin() + std::ptrdiff_t(n_test), rows.begin() + std::ptrdiff_t(n_test + n_val));
    train.insert(train.end(), rows.begin() + std::ptrdiff_t(n_test + n_val), rows.end());
  }
  // Keep file order within each part (the trainer shuffles every epoch).
  for (auto* part : {&train, &val, &test}) std::sort(part->begin(), part->end());
  if (train.empty()) throw DataError("the split leaves no training samples");
  return {select_rows(data, train), select_rows(data, val), select_rows(data, test)};
}

ClassIdRule::ClassIdRule(std::size_t fixed, std::string fixed_by, std::size_t declared, std::size_t rows,
                         const std::string& source, std::string how_to_declare)
    : fixed_(fixed), declared_(declared), rows_(rows), fixed_by_(std::move(fixed_by)),
      how_to_declare_(std::move(how_to_declare)) {
  if (declared > kMaxClasses)
    throw DataError(source + " declares " + std::to_string(declared) + " classes, more than the " +
                    std::to_string(kMaxClasses) + " sinapsis takes");
  if (fixed > 0 && declared > fixed)
    throw DataError(source + " declares " + std::to_string(declared) + " classes but " + fixed_by_ + " has " +
                    std::to_string(fixed));
  bound_ = fixed > 0 ? fixed : declared > 0 ? declared : std::min(std::max<std::size_t>(2, rows), kMaxClasses);
}

std::string ClassIdRule::refusal(std::int64_t label) const {
  if (label >= 0 && std::uint64_t(label) < bound_) return "";
  const std::string head = "is class " + std::to_string(label);
  if (label < 0) return head + ": class ids must be >= 0";
  const std::string range = " classes (0.." + std::to_string(bound_ - 1) + ")";
  if (fixed_ > 0) return head + " but " + fixed_by_ + " has " + std::to_string(fixed_) + range;
  if (declared_ > 0) return head + " but the data set declares " + std::to_string(declared_) + range;
  if (bound_ == kMaxClasses) return head + ": more than the " + std::to_string(kMaxClasses) + " classes sinapsis takes";
  return head + ": more classes than the data set's " + std::to_string(rows_) +
         " rows (a stray label? a data set with that many classes declares them " + how_to_declare_ + ")";
}

void ClassIdRule::check(std::int64_t label, std::size_t row, const std::string& where) const {
  if (const std::string why = refusal(label); !why.empty())
    throw DataError(where + " row " + std::to_string(row) + " " + why);
}

std::size_t ClassIdRule::classes(std::int64_t top) const {
  if (fixed_ > 0) return std::max<std::size_t>(2, fixed_);
  return std::max<std::size_t>({2, declared_, std::size_t(std::max<std::int64_t>(top, 0)) + 1});
}

std::size_t output_units(const Dataset& data, Loss loss) {
  if (data.task == Task::regression) {
    if (loss != Loss::mse)
      throw ModelError("loss " + std::string(loss_name(loss)) +
                       " needs class labels; this data set has real-valued targets (use mse)");
    return data.targets.cols;
  }
  const std::size_t k = data.classes;
  switch (loss) {
    case Loss::categorical_cross_entropy:
      return k;
    case Loss::binary_cross_entropy:
      if (k > 2)
        throw ModelError("loss bce is for two classes; this data set has " + std::to_string(k) +
                         " (use cce with a softmax output)");
      return 1;
    case Loss::mse:
      return k <= 2 ? 1 : k;
  }
  return k;
}

namespace {

// Targets and class ids of `data` (everything encode() makes but the features).
template <class T>
EncodedData<T> encode_targets(const Dataset& data, Loss loss, Activation output, std::size_t outputs,
                              const std::string& source) {
  EncodedData<T> out;
  const std::size_t n = data.size();
  out.targets = Matrix<T>(n, outputs);
  if (data.task == Task::regression) {
    if (data.targets.cols != outputs)
      throw DataError(source + ": /labels has " + std::to_string(data.targets.cols) +
                      " target columns but the model has " + std::to_string(outputs) + " outputs");
    for (std::size_t i = 0; i < data.targets.values.size(); ++i)
      out.targets.values[i] = T(data.targets.values[i]);
    return out;
  }
  const bool signed_targets = loss == Loss::mse && output == Activation::tanh;
  const T off = signed_targets ? T{-1} : T{0};
  const std::size_t classes = outputs == 1 ? 2 : outputs;
  out.class_ids.resize(n);
  for (std::size_t r = 0; r < n; ++r) {
    const std::int64_t label = data.labels[r];
    if (label < 0 || std::size_t(label) >= classes)
      throw DataError(source + ": /labels row " + std::to_string(r) + " is class " +
                      std::to_string(label) + " but the model has " + std::to_string(classes) +
                      " classes (0.." + std::to_string(classes - 1) + ")");
    out.class_ids[r] = std::int32_t(label);
    if (outputs == 1) {
      out.targets(r, 0) = label == 1 ? T{1} : off;
    } else {
      for (std::size_t k = 0; k < outputs; ++k) out.targets(r, k) = off;
      out.targets(r, std::size_t(label)) = T{1};
    }
  }
  return out;
}

}  // namespace

template <class T>
EncodedData<T> encode(const Dataset& data, Loss loss, Activation output, std::size_t outputs,
                      const std::string& source) {
  EncodedData<T> out = encode_targets<T>(data, loss, output, outputs, source);
  out.features = Matrix<T>(data.size(), data.dimension());
  for (std::size_t i = 0; i < data.features.values.size(); ++i) out.features.values[i] = T(data.features.values[i]);
  return out;
}

EncodedData<float> encode_moving(Dataset&& data, Loss loss, Activation output, std::size_t outputs,
                                 const std::string& source) {
  EncodedData<float> out = encode_targets<float>(data, loss, output, outputs, source);
  out.features = std::move(data.features);
  data.features = Matrix<float>();
  return out;
}

template EncodedData<float> encode<float>(const Dataset&, Loss, Activation, std::size_t,
                                          const std::string&);
template EncodedData<double> encode<double>(const Dataset&, Loss, Activation, std::size_t,
                                            const std::string&);

}  // namespace sinapsis
