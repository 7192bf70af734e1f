// Losses over a batch, each fused with the output unit it pairs with so the
// gradient is taken with respect to the output pre-activations z.
//
// How each is averaged (N samples in the batch, K output units, a = act(z),
// t = targets):
//   mse  L = 1/(N K) * sum_n sum_k (a_nk - t_nk)^2      (PyTorch MSELoss, Keras "mse")
//        The TensorFlow Playground shows 1/N * sum_n 0.5 (a_n - t_n)^2 with
//        K = 1, i.e. exactly half of this mse.
//   bce  L = 1/(N K) * sum_n sum_k [softplus(z_nk) - t_nk z_nk]  with a = sigmoid(z)
//        (PyTorch BCEWithLogitsLoss), computed from z so z = +-1000 stays finite.
//   cce  L = 1/N * sum_n [logsumexp(z_n) - sum_k t_nk z_nk]   with a = softmax(z)
//        (PyTorch CrossEntropyLoss on one-hot or soft targets), stable form.
//
// The functions below return the batch SUM of per-sample terms (before the
// 1/(N K) or 1/N) and write gradient * grad_scale, so a caller that knows the
// global sample count (several ranks) divides once by it: pass
// grad_scale = 1 / loss_normalizer(...).
#pragma once

#include <algorithm>
#include <cmath>
#include <string_view>

#include "core/activation.hpp"
#include "core/error.hpp"
#include "core/tensor.hpp"

namespace sinapsis {

enum class Loss { mse, binary_cross_entropy, categorical_cross_entropy };

// "mse" | "bce" | "cce"; throws UsageError naming `what` and the value.
Loss parse_loss(std::string_view name, std::string_view what);
std::string_view loss_name(Loss loss);

// Throws ModelError unless the output unit fits the loss: bce needs sigmoid,
// cce needs softmax; mse takes any trainable output unit.
void check_loss_output(Loss loss, Activation output);

// The divisor that turns the summed loss into the mean documented above.
inline double loss_normalizer(Loss loss, std::size_t samples, std::size_t outputs) {
  return loss == Loss::categorical_cross_entropy ? double(samples) : double(samples * outputs);
}

// Sum over the batch of the per-sample loss terms. z: output pre-activations,
// a: output activations, t: targets, all [N, K].
template <class T>
double loss_sum(Loss loss, ConstMatrixView<T> z, ConstMatrixView<T> a, ConstMatrixView<T> t) {
  double sum = 0;
  switch (loss) {
    case Loss::mse:
      for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = double(a.data[i]) - double(t.data[i]);
        sum += d * d;
      }
      return sum;
    case Loss::binary_cross_entropy:
      for (std::size_t i = 0; i < z.size(); ++i) {
        const double zi = z.data[i];
        // softplus(z) - t z, with softplus(z) = max(z, 0) + log1p(e^-|z|).
        sum += std::max(zi, 0.0) + std::log1p(std::exp(-std::abs(zi))) - double(t.data[i]) * zi;
      }
      return sum;
    case Loss::categorical_cross_entropy:
      for (std::size_t r = 0; r < z.rows; ++r) {
        const T* zr = z.row(r);
        const T* tr = t.row(r);
        const double top = *std::max_element(zr, zr + z.cols);
        double exp_sum = 0, target_dot = 0, target_mass = 0;
        for (std::size_t c = 0; c < z.cols; ++c) {
          exp_sum += std::exp(double(zr[c]) - top);
          target_dot += double(tr[c]) * double(zr[c]);
          target_mass += double(tr[c]);
        }
        sum += target_mass * (top + std::log(exp_sum)) - target_dot;
      }
      return sum;
  }
  return sum;
}

// Writes dL/dz * grad_scale into dz ([N, K]) for the fused output unit.
template <class T>
void loss_gradient(Loss loss, Activation output, ConstMatrixView<T> a, ConstMatrixView<T> t,
                   T grad_scale, MatrixView<T> dz) {
  const std::size_t n = a.size();
  switch (loss) {
    case Loss::mse:
      for (std::size_t i = 0; i < n; ++i) dz.data[i] = T{2} * grad_scale * (a.data[i] - t.data[i]);
      activation_backward(output, a, dz);
      return;
    case Loss::binary_cross_entropy:
      // sigmoid + bce: dL/dz = a - t.
      for (std::size_t i = 0; i < n; ++i) dz.data[i] = grad_scale * (a.data[i] - t.data[i]);
      return;
    case Loss::categorical_cross_entropy:
      // softmax + cce: dL/dz_k = a_k * sum_j t_j - t_k, which is a - t for
      // one-hot or probability targets and stays exact for unnormalised ones.
      for (std::size_t r = 0; r < a.rows; ++r) {
        const T* ar = a.row(r);
        const T* tr = t.row(r);
        T* dr = dz.row(r);
        T mass{0};
        for (std::size_t c = 0; c < a.cols; ++c) mass += tr[c];
        for (std::size_t c = 0; c < a.cols; ++c) dr[c] = grad_scale * (ar[c] * mass - tr[c]);
      }
      return;
  }
}

}  // namespace sinapsis
