// The finite-difference gradient checker shared by the layer, activation,
// loss and network tests. float64 only: in float the central differences
// drown in rounding.
//
// For every parameter p_i it takes the central difference
//   n_i = (f(p + h e_i) - f(p - h e_i)) / 2h        (error O(h^2))
// and compares it with the analytic a_i by the relative error
//   |a_i - n_i| / max(|a_i| + |n_i|, floor).
// The floor keeps near-zero gradients (a dead relu, a bias nobody uses) from
// turning rounding noise into a huge ratio: below it the comparison becomes
// absolute, |a_i - n_i| < tolerance * floor.
#pragma once

#include <algorithm>  // std::max
#include <cmath>      // std::abs, std::isnan
#include <cstddef>    // std::size_t
#include <ostream>    // std::ostream (gtest failure messages)
#include <span>       // std::span

namespace sinapsis::test {

struct GradientCheck {
  double worst_error = 0;       // largest relative error over all parameters
  std::size_t worst_index = 0;  // where it occurred ...
  double analytic = 0;          // ... and the two gradients there
  double numeric = 0;
};

inline std::ostream& operator<<(std::ostream& out, const GradientCheck& check) {
  return out << "worst relative error " << check.worst_error << " at parameter "
             << check.worst_index << ": analytic " << check.analytic << ", numeric "
             << check.numeric;
}

inline double relative_error(double analytic, double numeric, double floor) {
  return std::abs(analytic - numeric) / std::max(std::abs(analytic) + std::abs(numeric), floor);
}

// objective(parameters) -> double is evaluated with `parameters` perturbed
// in place one entry at a time; every entry is restored before returning.
// analytic [parameters.size()] is dobjective/dparameters at the unperturbed
// point.
template <class Objective>
GradientCheck check_gradient(Objective&& objective, std::span<double> parameters,
                             std::span<const double> analytic, double step = 1e-6,
                             double floor = 1e-3) {
  GradientCheck check;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const double saved = parameters[i];
    parameters[i] = saved + step;
    const double up = objective(std::span<const double>(parameters));
    parameters[i] = saved - step;
    const double down = objective(std::span<const double>(parameters));
    parameters[i] = saved;
    const double numeric = (up - down) / (2 * step);
    const double error = relative_error(analytic[i], numeric, floor);
    // A NaN anywhere is the worst error and stays reported.
    const bool worse = i == 0 || std::isnan(error) || error > check.worst_error;
    if (worse && !std::isnan(check.worst_error)) check = {error, i, analytic[i], numeric};
  }
  return check;
}

}  // namespace sinapsis::test
