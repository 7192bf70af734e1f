// The one place core/ calls BLAS: a typed GEMM over row-major views, so
// layer code reads as math and float/double pick the right routine.
#pragma once

#include <cblas.h>  // cblas_sgemm, cblas_dgemm

#include <type_traits>  // std::is_same_v

#include "core/tensor.hpp"

namespace sinapsis {

enum class Transpose { no, yes };

// C = alpha * op(A) * op(B) + beta * C, all row-major.
// op(A) is [C.rows, k], op(B) is [k, C.cols]; shapes are asserted by callers.
inline void gemm(Transpose ta, Transpose tb, float alpha, ConstMatrixView<float> a,
                 ConstMatrixView<float> b, float beta, MatrixView<float> c) {
  const auto k = static_cast<int>(ta == Transpose::no ? a.cols : a.rows);
  cblas_sgemm(CblasRowMajor, ta == Transpose::no ? CblasNoTrans : CblasTrans,
              tb == Transpose::no ? CblasNoTrans : CblasTrans, static_cast<int>(c.rows),
              static_cast<int>(c.cols), k, alpha, a.data, static_cast<int>(a.cols), b.data,
              static_cast<int>(b.cols), beta, c.data, static_cast<int>(c.cols));
}

inline void gemm(Transpose ta, Transpose tb, double alpha, ConstMatrixView<double> a,
                 ConstMatrixView<double> b, double beta, MatrixView<double> c) {
  const auto k = static_cast<int>(ta == Transpose::no ? a.cols : a.rows);
  cblas_dgemm(CblasRowMajor, ta == Transpose::no ? CblasNoTrans : CblasTrans,
              tb == Transpose::no ? CblasNoTrans : CblasTrans, static_cast<int>(c.rows),
              static_cast<int>(c.cols), k, alpha, a.data, static_cast<int>(a.cols), b.data,
              static_cast<int>(b.cols), beta, c.data, static_cast<int>(c.cols));
}

// C += alpha * A[:, first : first + C.rows]^T * B: rows [first, first + C.rows)
// of A^T B, with A [k, m] row-major read in place (its leading dimension is
// A.cols). Row blocks of a weight gradient, so an exchange can start on one
// block while the next is computed. T is float or double.
template <class T>
void gemm_transposed_rows(T alpha, ConstMatrixView<T> a, std::size_t first, ConstMatrixView<T> b,
                          MatrixView<T> c) {
  const auto m = static_cast<int>(c.rows), n = static_cast<int>(c.cols), k = static_cast<int>(a.rows);
  const auto lda = static_cast<int>(a.cols), ldb = static_cast<int>(b.cols), ldc = static_cast<int>(c.cols);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, alpha, a.data + first, lda, b.data, ldb, 1.0f,
                c.data, ldc);
  else
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, alpha, a.data + first, lda, b.data, ldb, 1.0,
                c.data, ldc);
}

}  // namespace sinapsis
