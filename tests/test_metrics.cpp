// eval's metrics: by hand on small cases, and against the numbers
// scikit-learn's classification_report documents for its own example.
#include <gtest/gtest.h>

#include <vector>

#include "core/metrics.hpp"

namespace sinapsis {
namespace {

TEST(ClassificationReport, CountsTheConfusionMatrixAndScoresEachClassByHand) {
  // truth 0 0 0 1 1 2; predicted 0 0 1 1 2 2
  const ClassificationReport r = classification_report({0, 0, 0, 1, 1, 2}, {0, 0, 1, 1, 2, 2}, 3);
  EXPECT_EQ(r.confusion, (std::vector<std::vector<std::size_t>>{{2, 1, 0}, {0, 1, 1}, {0, 0, 1}}));
  EXPECT_DOUBLE_EQ(r.accuracy, 4.0 / 6);
  EXPECT_DOUBLE_EQ(r.classes[0].precision, 1.0);      // 2 / 2
  EXPECT_DOUBLE_EQ(r.classes[0].recall, 2.0 / 3);     // 2 / 3
  EXPECT_DOUBLE_EQ(r.classes[0].f1, 0.8);             // 2 * 1 * 2/3 / (5/3)
  EXPECT_DOUBLE_EQ(r.classes[1].precision, 0.5);      // 1 / 2
  EXPECT_DOUBLE_EQ(r.classes[1].recall, 0.5);
  EXPECT_DOUBLE_EQ(r.classes[2].precision, 0.5);      // 1 / 2
  EXPECT_DOUBLE_EQ(r.classes[2].recall, 1.0);
  EXPECT_DOUBLE_EQ(r.classes[2].f1, 2.0 / 3);
  EXPECT_EQ(r.classes[0].support, 3u);
  EXPECT_DOUBLE_EQ(r.macro.precision, (1.0 + 0.5 + 0.5) / 3);
  EXPECT_DOUBLE_EQ(r.weighted.recall, (2.0 / 3 * 3 + 0.5 * 2 + 1.0 * 1) / 6);
  EXPECT_EQ(r.macro.support, 6u);
}

// sklearn.metrics.classification_report's documented example:
// y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1] prints (digits=2)
//   class 0  0.50 1.00 0.67 1 | class 1  0.00 0.00 0.00 1 | class 2  1.00 0.67 0.80 3
//   accuracy 0.60 | macro avg 0.50 0.56 0.49 | weighted avg 0.70 0.60 0.61
TEST(ClassificationReport, MatchesScikitLearnsDocumentedExample) {
  const ClassificationReport r = classification_report({0, 1, 2, 2, 2}, {0, 0, 2, 2, 1}, 3);
  const auto near = [](double value, double printed) { EXPECT_NEAR(value, printed, 0.005); };
  near(r.classes[0].precision, 0.50), near(r.classes[0].recall, 1.00), near(r.classes[0].f1, 0.67);
  near(r.classes[1].precision, 0.00), near(r.classes[1].recall, 0.00), near(r.classes[1].f1, 0.00);
  near(r.classes[2].precision, 1.00), near(r.classes[2].recall, 0.67), near(r.classes[2].f1, 0.80);
  near(r.accuracy, 0.60);
  near(r.macro.precision, 0.50), near(r.macro.recall, 0.56), near(r.macro.f1, 0.49);
  near(r.weighted.precision, 0.70), near(r.weighted.recall, 0.60), near(r.weighted.f1, 0.61);
  EXPECT_EQ(r.classes[2].support, 3u);
}

TEST(ClassificationReport, AveragesOnlyOverClassesThatOccur) {
  // Class 2 is neither in the truth nor predicted: left out of the averages, as sklearn does.
  const ClassificationReport r = classification_report({0, 1, 1}, {0, 1, 0}, 3);
  EXPECT_FALSE(r.present[2]);
  EXPECT_DOUBLE_EQ(r.macro.precision, (0.5 + 1.0) / 2);
  EXPECT_THROW(classification_report({0, 3}, {0, 0}, 3), ModelError);
}

TEST(RegressionReport, MseMaeAndR2ByHand) {
  const std::vector<float> t{3, -0.5f, 2, 7}, p{2.5f, 0, 2, 8};  // sklearn's r2_score example: 0.948...
  const RegressionReport r = regression_report({t.data(), 4, 1}, {p.data(), 4, 1});
  EXPECT_NEAR(r.mse, (0.25 + 0.25 + 0 + 1) / 4, 1e-12);
  EXPECT_NEAR(r.mae, (0.5 + 0.5 + 0 + 1) / 4, 1e-12);
  EXPECT_NEAR(r.r2, 0.9486081370449679, 1e-7);
  const std::vector<float> flat{1, 1};
  EXPECT_DOUBLE_EQ(regression_report({flat.data(), 2, 1}, {flat.data(), 2, 1}).r2, 1.0);
}

}  // namespace
}  // namespace sinapsis
