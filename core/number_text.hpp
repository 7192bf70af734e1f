// Numbers as text, the one way sinapsis writes them into files and lines
// (metrics.csv, trials.csv, summary.json, config.ini, reports, messages).
#pragma once

#include <cmath>
#include <sstream>
#include <string>

namespace sinapsis {

// `digits` significant digits in the stream's default (%g) style: 0.05,
// 1e-05, 123456789, inf, nan.
inline std::string significant(double value, int digits) {
  std::ostringstream text;
  text.precision(digits);
  text << value;
  return text.str();
}

// A CSV field: nine significant digits (a float's every digit), empty for
// NaN (nothing was measured).
inline std::string csv_field(double value) { return std::isnan(value) ? std::string() : significant(value, 9); }

}  // namespace sinapsis
