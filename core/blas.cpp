#include "core/blas.h"

#include <cblas.h>

#include "core/parallel.h"

namespace normlab {

namespace {
void sgemm(const GemmArgs& g) {
  cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans,
              g.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(g.m), static_cast<int>(g.n),
              static_cast<int>(g.k), g.alpha, g.a, static_cast<int>(g.lda), g.b,
              static_cast<int>(g.ldb), g.beta, g.c, static_cast<int>(g.ldc));
}
}  // namespace

void gemm(const GemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  // Split by rows of C (rows of A, or its columns when transposed) into parts of at least ~2^17
  // multiply-adds: below that, handing a part to another thread costs more than it saves.
  const std::size_t row_work = g.n * (g.k > 0 ? g.k : 1);
  parallel_for(g.m, ((std::size_t{1} << 17) + row_work - 1) / row_work,
               [&](std::size_t begin, std::size_t end) {
                 GemmArgs part = g;
                 part.m = end - begin;
                 part.a = g.trans_a ? g.a + begin : g.a + begin * g.lda;
                 part.c = g.c + begin * g.ldc;
                 sgemm(part);
               });
}

void gemm_reference(const GemmArgs& g) {
  for (std::size_t i = 0; i < g.m; ++i)
    for (std::size_t j = 0; j < g.n; ++j) {
      double sum = 0.0;
      for (std::size_t p = 0; p < g.k; ++p) {
        const float a = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
        const float b = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
        sum += static_cast<double>(a) * b;
      }
      float& c = g.c[i * g.ldc + j];
      c = static_cast<float>(g.alpha * sum + (g.beta == 0.0f ? 0.0 : g.beta * c));
    }
}

}  // namespace normlab
