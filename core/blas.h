/// @file
/// @verbatim
/// Matrix products. Every product in normlab goes through gemm(), which calls OpenBLAS'
/// cblas_sgemm, split over normlab's threads (core/parallel.h); gemm_reference() is the naive
/// triple loop kept beside it as the test oracle.
///
///   C = alpha * op(A) * op(B) + beta * C,  row-major,
///   op(A) is M x K (A^T when trans_a), op(B) is K x N (B^T when trans_b), C is M x N.
/// @endverbatim
#pragma once

#include <cstddef>

namespace normlab {

/// The operands of one product C = alpha op(A) op(B) + beta C, row-major.
struct GemmArgs {
  ///@{
  /// op(A) = A^T, op(B) = B^T.
  bool trans_a = false, trans_b = false;
  ///@}
  ///@{
  /// op(A) is m x k, op(B) is k x n, C is m x n.
  std::size_t m = 0, n = 0, k = 0;
  ///@}
  /// The scale of op(A) op(B).
  float alpha = 1.0f;
  /// A and its row stride (lda >= its column count).
  const float* a = nullptr;
  /// The row stride of A.
  std::size_t lda = 0;
  /// B, with row stride ldb.
  const float* b = nullptr;
  /// The row stride of B.
  std::size_t ldb = 0;
  /// The scale of C before the product is added (0: C is overwritten).
  float beta = 0.0f;
  /// C, with row stride ldc.
  float* c = nullptr;
  /// The row stride of C.
  std::size_t ldc = 0;
};

/// C = alpha op(A) op(B) + beta C through cblas_sgemm.
void gemm(const GemmArgs& g);
/// The same product as a naive triple loop, the test oracle for gemm().
void gemm_reference(const GemmArgs& g);

}  // namespace normlab
