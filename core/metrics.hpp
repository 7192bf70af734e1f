// What `sinapsis eval` reports beside the loss: for classifiers the
// confusion matrix and per-class precision, recall, F1 and support with
// their macro and support-weighted averages; for regression MSE, MAE and R².
// Pure: no files, no model, unit-tested by hand and against
// scikit-learn's classification_report.
//
// The definitions are scikit-learn's (1.3) defaults:
// - precision_k = TP / (TP + FP), recall_k = TP / (TP + FN),
//   F1_k = 2 P R / (P + R); a zero denominator gives 0 (zero_division="warn").
// - The averages run over the classes that occur in the truth or in the
//   predictions (classification_report without `labels`): macro is their
//   plain mean, weighted their mean weighted by support.
// - R² = 1 - SS_res / SS_tot per output, averaged over the outputs
//   (uniform_average); an output whose truth is constant gives 1 if it is
//   predicted exactly, else 0 (force_finite). MSE and MAE average over all
//   values.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.hpp"
#include "core/tensor.hpp"

namespace sinapsis {

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  std::size_t support = 0;  // rows of this class in the truth
};

struct ClassificationReport {
  std::vector<std::vector<std::size_t>> confusion;  // [true class][predicted class]
  std::vector<ClassScores> classes;                 // per class id
  std::vector<bool> present;                        // in the truth or the predictions: counted in the averages
  ClassScores macro, weighted;
  double accuracy = 0;
  std::size_t samples = 0;
};

// From a confusion matrix ([true class][predicted class] counts, square).
inline ClassificationReport classification_report(std::vector<std::vector<std::size_t>> confusion) {
  const std::size_t classes = confusion.size();
  ClassificationReport r;
  for (const auto& row : confusion) {
    if (row.size() != classes) throw ModelError("classification_report: the confusion matrix is not square");
    for (const std::size_t n : row) r.samples += n;
  }
  r.confusion = std::move(confusion);
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  r.classes.resize(classes);
  r.present.resize(classes);
  std::size_t correct = 0, counted = 0;
  for (std::size_t k = 0; k < classes; ++k) {
    std::size_t as_k = 0, of_k = 0;
    for (std::size_t j = 0; j < classes; ++j) {
      as_k += r.confusion[j][k];
      of_k += r.confusion[k][j];
    }
    const double tp = double(r.confusion[k][k]);
    correct += r.confusion[k][k];
    ClassScores& c = r.classes[k];
    c.precision = ratio(tp, double(as_k));
    c.recall = ratio(tp, double(of_k));
    c.f1 = ratio(2 * c.precision * c.recall, c.precision + c.recall);
    c.support = of_k;
    r.present[k] = as_k > 0 || of_k > 0;
    if (!r.present[k]) continue;
    ++counted;
    r.macro.precision += c.precision;
    r.macro.recall += c.recall;
    r.macro.f1 += c.f1;
    r.weighted.precision += c.precision * double(c.support);
    r.weighted.recall += c.recall * double(c.support);
    r.weighted.f1 += c.f1 * double(c.support);
  }
  for (double* v : {&r.macro.precision, &r.macro.recall, &r.macro.f1}) *v = ratio(*v, double(counted));
  for (double* v : {&r.weighted.precision, &r.weighted.recall, &r.weighted.f1}) *v = ratio(*v, double(r.samples));
  r.macro.support = r.weighted.support = r.samples;
  r.accuracy = ratio(double(correct), double(r.samples));
  return r;
}

// From the true and predicted class ids of each sample.
inline ClassificationReport classification_report(const std::vector<std::int64_t>& truth,
                                                  const std::vector<std::int64_t>& predicted, std::size_t classes) {
  if (truth.size() != predicted.size()) throw ModelError("classification_report: truth and predictions differ in length");
  std::vector<std::vector<std::size_t>> confusion(classes, std::vector<std::size_t>(classes, 0));
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || predicted[i] < 0 || std::size_t(truth[i]) >= classes || std::size_t(predicted[i]) >= classes)
      throw ModelError("classification_report: a class id outside 0.." + std::to_string(classes - 1));
    ++confusion[std::size_t(truth[i])][std::size_t(predicted[i])];
  }
  return classification_report(std::move(confusion));
}

struct RegressionReport {
  double mse = 0, mae = 0, r2 = 0;
  std::size_t samples = 0;
};

inline RegressionReport regression_report(ConstMatrixView<float> truth, ConstMatrixView<float> predicted) {
  if (truth.rows != predicted.rows || truth.cols != predicted.cols)
    throw ModelError("regression_report: truth and predictions differ in shape");
  RegressionReport r;
  r.samples = truth.rows;
  const std::size_t n = truth.rows, k = truth.cols;
  if (n == 0 || k == 0) return r;
  for (std::size_t c = 0; c < k; ++c) {
    double mean = 0;
    for (std::size_t i = 0; i < n; ++i) mean += truth(i, c);
    mean /= double(n);
    double residual = 0, total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double e = double(predicted(i, c)) - double(truth(i, c));
      residual += e * e;
      r.mae += std::abs(e);
      total += (double(truth(i, c)) - mean) * (double(truth(i, c)) - mean);
    }
    r.mse += residual;
    r.r2 += total > 0 ? 1 - residual / total : (residual == 0 ? 1.0 : 0.0);
  }
  r.mse /= double(n * k);
  r.mae /= double(n * k);
  r.r2 /= double(k);
  return r;
}

}  // namespace sinapsis
