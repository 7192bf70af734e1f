// The dense (fully connected) layer as a pair of free functions.
#pragma once

#include <algorithm>
#include <cassert>
#include <span>

#include "core/blas.hpp"

namespace sinapsis {

// y = x w + b.   x [n, fan_in], w [fan_in, fan_out], b [fan_out], y [n, fan_out].
template <class T>
void dense_forward(ConstMatrixView<T> x, ConstMatrixView<T> w, std::span<const T> b,
                   MatrixView<T> y) {
  assert(x.cols == w.rows && y.rows == x.rows && y.cols == w.cols && b.size() == w.cols);
  for (std::size_t r = 0; r < y.rows; ++r) std::copy(b.begin(), b.end(), y.row(r));
  gemm(Transpose::no, Transpose::no, T{1}, x, w, T{1}, y);
}

// The three parts of the layer's backward pass, for dense_backward() and for
// backward() (which runs them in pieces so the gradient exchange can start
// early). dy = dL/dy [n, fan_out].
//
// ADDS rows [first, first + dw_rows.rows) of x^T dy into dw_rows (those rows
// of dw [fan_in, fan_out]).
template <class T>
void dense_weight_gradient_rows(ConstMatrixView<T> x, ConstMatrixView<T> dy, std::size_t first,
                                MatrixView<T> dw_rows) {
  assert(dy.rows == x.rows && dw_rows.cols == dy.cols && first + dw_rows.rows <= x.cols);
  gemm_transposed_rows(T{1}, x, first, dy, dw_rows);
}
// ADDS the column sums of dy into db [fan_out].
template <class T>
void dense_bias_gradient(ConstMatrixView<T> dy, std::span<T> db) {
  for (std::size_t r = 0; r < dy.rows; ++r) {
    const T* row = dy.row(r);
    for (std::size_t c = 0; c < dy.cols; ++c) db[c] += row[c];
  }
}
// Writes dx = dy w^T [n, fan_in].
template <class T>
void dense_input_gradient(ConstMatrixView<T> dy, ConstMatrixView<T> w, MatrixView<T> dx) {
  assert(dx.rows == dy.rows && dx.cols == w.rows && dy.cols == w.cols);
  gemm(Transpose::no, Transpose::yes, T{1}, dy, w, T{0}, dx);
}

// Given dy = dL/dy [n, fan_out]: ADDS x^T dy into dw [fan_in, fan_out] and the
// column sums of dy into db [fan_out]; if dx is non-null writes dx = dy w^T
// [n, fan_in] (the first layer passes null: nobody needs dL/dinput).
template <class T>
void dense_backward(ConstMatrixView<T> x, ConstMatrixView<T> w, ConstMatrixView<T> dy,
                    MatrixView<T> dw, std::span<T> db, MatrixView<T>* dx) {
  assert(dy.rows == x.rows && dy.cols == w.cols && dw.rows == w.rows && dw.cols == w.cols);
  dense_weight_gradient_rows(x, dy, 0, dw);
  dense_bias_gradient(dy, db);
  if (dx != nullptr) dense_input_gradient(dy, w, *dx);
}

}  // namespace sinapsis
