// The one place core/ calls BLAS: a typed GEMM over row-major views, so
// layer code reads as math and float/double pick the right routine.
#pragma once

#include <cblas.h>  // cblas_sgemm, cblas_dgemm

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

}  // namespace sinapsis
