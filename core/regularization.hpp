// Weight penalties. Only weights are penalized, never biases (as in the
// Playground and Keras' kernel_regularizer):
//   penalty = l1 * sum |w|  +  l2 * 0.5 * sum w^2
//   d penalty / dw = l1 * sign(w) + l2 * w
// so `l2` is PyTorch's weight_decay and the Playground's L2 rate; Keras'
// regularizers.l2(lambda) (lambda * sum w^2, no 1/2) equals l2 = 2 * lambda.
#pragma once

#include <cmath>
#include <span>

namespace sinapsis {

struct Penalty {
  double l1 = 0;
  double l2 = 0;

  bool active() const { return l1 != 0 || l2 != 0; }

  template <class T>
  double value(std::span<const T> weights) const {
    if (!active()) return 0;
    double abs_sum = 0, square_sum = 0;
    for (T w : weights) {
      abs_sum += std::abs(double(w));
      square_sum += double(w) * double(w);
    }
    return l1 * abs_sum + 0.5 * l2 * square_sum;
  }

  // d penalty / dw for one weight.
  template <class T>
  T gradient(T w) const {
    const T sign = w > T{0} ? T{1} : (w < T{0} ? T{-1} : T{0});
    return T(l1) * sign + T(l2) * w;
  }
};

}  // namespace sinapsis
