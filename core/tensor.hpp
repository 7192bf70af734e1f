// Row-major matrix views over memory owned elsewhere (a model's parameter
// buffer, a planned workspace). A view never allocates and never owns.
#pragma once

#include <cassert>
#include <cstddef>  // std::size_t
#include <span>     // std::span
#include <vector>   // std::vector (Matrix storage)

namespace sinapsis {

// A rows x cols row-major view: element (r, c) lives at data[r * cols + c].
template <class T>
struct MatrixView {
  T* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  T& operator()(std::size_t r, std::size_t c) const {
    assert(r < rows && c < cols);
    return data[r * cols + c];
  }
  T* row(std::size_t r) const { return data + r * cols; }
  std::size_t size() const { return rows * cols; }
  std::span<T> flat() const { return {data, rows * cols}; }
  // The first `n` rows: a batch smaller than the planned capacity.
  MatrixView first_rows(std::size_t n) const {
    assert(n <= rows);
    return {data, n, cols};
  }
  operator MatrixView<const T>() const { return {data, rows, cols}; }
};

template <class T>
using ConstMatrixView = MatrixView<const T>;

// A matrix that owns its storage, for data sets and tests.
template <class T>
struct Matrix {
  std::vector<T> values;
  std::size_t rows = 0;
  std::size_t cols = 0;

  Matrix() = default;
  Matrix(std::size_t r, std::size_t c, T fill = T{}) : values(r * c, fill), rows(r), cols(c) {}

  MatrixView<T> view() { return {values.data(), rows, cols}; }
  ConstMatrixView<T> view() const { return {values.data(), rows, cols}; }
  T& operator()(std::size_t r, std::size_t c) { return values[r * cols + c]; }
  const T& operator()(std::size_t r, std::size_t c) const { return values[r * cols + c]; }
};

}  // namespace sinapsis
