// Unit activations, applied in place to a batch of pre-activations.
//
//   linear   a = z
//   step     a = 1 if z >= threshold else 0   (McCulloch-Pitts; forward only)
//   sigmoid  a = 1 / (1 + e^-z)
//   tanh     a = tanh z
//   relu     a = max(0, z)
//   softmax  a_k = e^{z_k} / sum_j e^{z_j}, per row (output units only)
//
// Backward turns dL/da into dL/dz in place, using only the outputs a, so a
// layer stores its activations and not its pre-activations.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/tensor.hpp"

namespace sinapsis {

enum class Activation { linear, step, sigmoid, tanh, relu, softmax };

// "tanh" -> Activation::tanh; throws UsageError naming `what` and the value.
Activation parse_activation(std::string_view name, std::string_view what);
std::string_view activation_name(Activation activation);
// Output-only units (softmax) cannot sit in a hidden layer.
bool is_hidden_activation(Activation activation);

template <class T>
void activate(Activation activation, MatrixView<T> z, T step_threshold = T{0}) {
  auto values = z.flat();
  switch (activation) {
    case Activation::linear:
      return;
    case Activation::step:
      for (T& v : values) v = v >= step_threshold ? T{1} : T{0};
      return;
    case Activation::sigmoid:
      for (T& v : values) v = T{1} / (T{1} + std::exp(-v));
      return;
    case Activation::tanh:
      for (T& v : values) v = std::tanh(v);
      return;
    case Activation::relu:
      for (T& v : values) v = v > T{0} ? v : T{0};
      return;
    case Activation::softmax:
      for (std::size_t r = 0; r < z.rows; ++r) {
        T* row = z.row(r);
        const T top = *std::max_element(row, row + z.cols);
        T sum{0};
        for (std::size_t c = 0; c < z.cols; ++c) sum += row[c] = std::exp(row[c] - top);
        for (std::size_t c = 0; c < z.cols; ++c) row[c] /= sum;
      }
      return;
  }
}

// grad holds dL/da on entry and dL/dz on return; a holds the activations.
template <class T>
void activation_backward(Activation activation, ConstMatrixView<T> a, MatrixView<T> grad) {
  const T* av = a.data;
  T* g = grad.data;
  const std::size_t n = grad.size();
  switch (activation) {
    case Activation::linear:
      return;
    case Activation::step:
      throw ModelError("cannot train through a step unit: its derivative is zero almost "
                       "everywhere (use sigmoid, tanh or relu)");
    case Activation::sigmoid:
      for (std::size_t i = 0; i < n; ++i) g[i] *= av[i] * (T{1} - av[i]);
      return;
    case Activation::tanh:
      for (std::size_t i = 0; i < n; ++i) g[i] *= T{1} - av[i] * av[i];
      return;
    case Activation::relu:
      for (std::size_t i = 0; i < n; ++i) g[i] = av[i] > T{0} ? g[i] : T{0};
      return;
    case Activation::softmax:
      // dz_k = a_k (g_k - sum_j a_j g_j): the softmax Jacobian times g.
      for (std::size_t r = 0; r < grad.rows; ++r) {
        const T* ar = a.row(r);
        T* gr = grad.row(r);
        T dot{0};
        for (std::size_t c = 0; c < grad.cols; ++c) dot += ar[c] * gr[c];
        for (std::size_t c = 0; c < grad.cols; ++c) gr[c] = ar[c] * (gr[c] - dot);
      }
      return;
  }
}

}  // namespace sinapsis
