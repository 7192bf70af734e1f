// Forward and backward passes of a whole MLP over a batch, with every buffer
// planned up front in a Workspace: a training step allocates nothing.
//
// Dropout (inverted, as in the lecture with keep probability keep_prob): in
// training mode each hidden unit is kept with probability keep_prob and kept
// units are scaled by 1/keep_prob, so evaluation uses the weights as they are.
// Masks are drawn from derive_seed({seed, Stream::dropout, step, layer}), so a
// run is reproducible from its seed. Inputs and outputs are never dropped.
#pragma once

#include <cstdint>
#include <vector>

#include "core/dense.hpp"
#include "core/gradient_buckets.hpp"
#include "core/loss.hpp"
#include "core/model.hpp"
#include "core/random.hpp"

namespace sinapsis {

struct DropoutPlan {
  double keep_prob = 1;      // in (0, 1]; 1 = no dropout
  std::uint64_t seed = 0;    // run seed
  std::uint64_t step = 0;    // global step: one mask per step and layer
};

// Buffers for batches of up to `capacity` rows through `architecture`.
template <class T>
class Workspace {
 public:
  Workspace(const Architecture& architecture, std::size_t capacity) : capacity_(capacity) {
    for (const auto& l : architecture.layers) {
      activations_.emplace_back(capacity, l.fan_out);
      deltas_.emplace_back(capacity, l.fan_out);
      masks_.emplace_back(capacity, l.fan_out);
    }
    logits_ = Matrix<T>(capacity, architecture.outputs());
  }
  std::size_t capacity() const { return capacity_; }

  // Outputs of layer l (after activation and dropout) for the current batch.
  MatrixView<T> activation(std::size_t l, std::size_t n) { return activations_[l].view().first_rows(n); }
  MatrixView<T> delta(std::size_t l, std::size_t n) { return deltas_[l].view().first_rows(n); }
  MatrixView<T> mask(std::size_t l, std::size_t n) { return masks_[l].view().first_rows(n); }
  // Output-layer pre-activations (kept for numerically stable losses).
  MatrixView<T> logits(std::size_t n) { return logits_.view().first_rows(n); }
  MatrixView<T> output(std::size_t n) { return activation(activations_.size() - 1, n); }

 private:
  std::size_t capacity_;
  std::vector<Matrix<T>> activations_;
  std::vector<Matrix<T>> deltas_;
  std::vector<Matrix<T>> masks_;
  Matrix<T> logits_;
};

// Forward pass of x [n, inputs] (n <= capacity). Pass a DropoutPlan with
// keep_prob < 1 only in training. Returns the outputs [n, outputs].
template <class T>
MatrixView<T> forward(const Model<T>& model, Workspace<T>& ws, ConstMatrixView<T> x,
                      const DropoutPlan& dropout = {}) {
  const auto& layers = model.architecture().layers;
  const std::size_t n = x.rows;
  ConstMatrixView<T> input = x;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    MatrixView<T> a = ws.activation(l, n);
    dense_forward(input, model.weight(l), model.bias(l), a);
    const bool is_output = l + 1 == layers.size();
    if (is_output) std::copy(a.data, a.data + a.size(), ws.logits(n).data);
    activate(layers[l].activation, a, T(layers[l].step_threshold));
    if (!is_output && dropout.keep_prob < 1) {
      Rng rng(derive_seed({dropout.seed, std::uint64_t(Stream::dropout), dropout.step, l}));
      MatrixView<T> mask = ws.mask(l, n);
      const T kept = T(1 / dropout.keep_prob);
      for (std::size_t i = 0; i < a.size(); ++i) {
        mask.data[i] = rng.uniform() < dropout.keep_prob ? kept : T{0};
        a.data[i] *= mask.data[i];
      }
    }
    input = a;
  }
  return ws.output(n);
}

// Backward pass after forward() on the same x and workspace. Computes the
// loss gradient at the output (scaled by grad_scale, see loss.hpp) and ADDS
// every layer's dW and db into model.gradients(); the caller zeroes them once
// per step. keep_prob must be the one given to forward(). With dropout,
// backward() consumes the workspace (it rescales the stored hidden
// activations in place): call it once per forward().
//
// For overlapping the gradient exchange with the rest of backward, layer l's
// dW is computed in row blocks of chunk_rows[l] rows (0, or no entry: the
// whole layer at once), from its LAST rows to its first, so the final part
// of the weight block (Model's layout) only ever grows backwards from its
// end. on_done(l, first) runs as soon as rows [first, fan_in) of layer l's
// dW are final; with first == 0 its db is final too. Calls come output layer
// first, and each layer's come before its dx is computed, so an exchange
// started from the hook runs while backward goes on. weight_chunks() gives
// the same blocks for planning.
template <class T, class OnGradientsDone>
void backward(Model<T>& model, Workspace<T>& ws, ConstMatrixView<T> x, ConstMatrixView<T> targets,
              Loss loss, T grad_scale, double keep_prob, std::span<const std::size_t> chunk_rows,
              OnGradientsDone&& on_done) {
  const auto& layers = model.architecture().layers;
  const std::size_t n = x.rows;
  const std::size_t last = layers.size() - 1;
  loss_gradient(loss, layers[last].activation, ConstMatrixView<T>(ws.output(n)), targets,
                grad_scale, ws.delta(last, n));
  for (std::size_t l = last + 1; l-- > 0;) {
    ConstMatrixView<T> input = l == 0 ? x : ConstMatrixView<T>(ws.activation(l - 1, n));
    const ConstMatrixView<T> dy = ws.delta(l, n);
    const MatrixView<T> dw = model.weight_gradient(l);
    const std::size_t block = l < chunk_rows.size() ? chunk_rows[l] : 0;
    for (const auto [first, end] : weight_chunks(dw.rows, block)) {
      dense_weight_gradient_rows<T>(input, dy, first, MatrixView<T>{dw.row(first), end - first, dw.cols});
      if (first == 0) dense_bias_gradient(dy, model.bias_gradient(l));
      on_done(l, first);
    }
    if (l == 0) break;
    MatrixView<T> dx = ws.delta(l - 1, n);
    dense_input_gradient<T>(dy, model.weight(l), dx);
    MatrixView<T> a = ws.activation(l - 1, n);
    if (keep_prob < 1) {
      // Through the mask, then undo the 1/keep_prob scale of kept units so the
      // activation derivative sees the unit's own output (dropped ones have
      // a zero gradient whatever a is).
      const MatrixView<T> mask = ws.mask(l - 1, n);
      for (std::size_t i = 0; i < dx.size(); ++i) {
        dx.data[i] *= mask.data[i];
        a.data[i] *= T(keep_prob);
      }
    }
    activation_backward(layers[l - 1].activation, ConstMatrixView<T>(a), dx);
  }
}

template <class T>
void backward(Model<T>& model, Workspace<T>& ws, ConstMatrixView<T> x, ConstMatrixView<T> targets, Loss loss,
              T grad_scale, double keep_prob = 1) {
  backward(model, ws, x, targets, loss, grad_scale, keep_prob, {}, [](std::size_t, std::size_t) {});
}

}  // namespace sinapsis
