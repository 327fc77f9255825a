// Matrix products. Every product in normlab goes through gemm(), which calls OpenBLAS'
// cblas_sgemm; gemm_reference() is the naive triple loop kept beside it as the test oracle.
//
//   C = alpha * op(A) * op(B) + beta * C,  row-major,
//   op(A) is M x K (A^T when trans_a), op(B) is K x N (B^T when trans_b), C is M x N.
#pragma once

#include <cstddef>

namespace normlab {

struct GemmArgs {
  bool trans_a = false, trans_b = false;
  std::size_t m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  std::size_t lda = 0;
  const float* b = nullptr;
  std::size_t ldb = 0;
  float beta = 0.0f;
  float* c = nullptr;
  std::size_t ldc = 0;
};

void gemm(const GemmArgs& g);
void gemm_reference(const GemmArgs& g);

// Threads OpenBLAS may use (1 gives bit-reproducible runs); 0 leaves its default.
void set_blas_threads(int threads);
int blas_threads();

}  // namespace normlab
