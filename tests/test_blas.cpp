// gemm: C = alpha op(A) op(B) + beta C through cblas_sgemm, against a hand-computed product and
// the naive triple loop gemm_reference, for every transpose combination and padded strides.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/blas.h"
#include "core/rng.h"

using namespace normlab;

namespace {

std::vector<float> random_values(std::size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform(-1.0, 1.0));
  return v;
}

}  // namespace

TEST_CASE("gemm on a 2x3 times 3x2 product checked by hand") {
  // [1 2 3]   [1 0]   [1+0+9   0+2+3]   [10 5]
  // [4 5 6] x [0 1] = [4+0+18  0+5+6] = [22 11]
  //           [3 1]
  const std::vector<float> a{1, 2, 3, 4, 5, 6}, b{1, 0, 0, 1, 3, 1};
  std::vector<float> c(4, 100.0f);
  gemm({.m = 2,
        .n = 2,
        .k = 3,
        .a = a.data(),
        .lda = 3,
        .b = b.data(),
        .ldb = 2,
        .c = c.data(),
        .ldc = 2});
  CHECK(c == std::vector<float>{10, 5, 22, 11});  // beta = 0 overwrites C
  // alpha = 2, beta = 1 accumulates: C = 2 A B + C
  gemm({.m = 2,
        .n = 2,
        .k = 3,
        .alpha = 2.0f,
        .a = a.data(),
        .lda = 3,
        .b = b.data(),
        .ldb = 2,
        .beta = 1.0f,
        .c = c.data(),
        .ldc = 2});
  CHECK(c == std::vector<float>{30, 15, 66, 33});
  // A^T B with A stored 3x2: A^T = [[1 3 5], [2 4 6]]; times b = [[1 0], [0 1], [3 1]]
  const std::vector<float> at{1, 2, 3, 4, 5, 6};
  gemm({.trans_a = true,
        .m = 2,
        .n = 2,
        .k = 3,
        .a = at.data(),
        .lda = 2,
        .b = b.data(),
        .ldb = 2,
        .c = c.data(),
        .ldc = 2});
  CHECK(c == std::vector<float>{16, 8, 20, 10});
}

TEST_CASE("gemm agrees with gemm_reference for every transpose and padded leading dimensions") {
  Rng rng(17);
  const std::size_t m = 7, n = 5, k = 9, pad = 3;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      // Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k), each row padded.
      const std::size_t a_rows = ta ? k : m, a_cols = ta ? m : k;
      const std::size_t b_rows = tb ? n : k, b_cols = tb ? k : n;
      const std::size_t lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
      const auto a = random_values(a_rows * lda, rng);
      const auto b = random_values(b_rows * ldb, rng);
      const auto c0 = random_values(m * ldc, rng);
      std::vector<float> c = c0, ref = c0;
      GemmArgs args{.trans_a = ta,
                    .trans_b = tb,
                    .m = m,
                    .n = n,
                    .k = k,
                    .alpha = 0.75f,
                    .a = a.data(),
                    .lda = lda,
                    .b = b.data(),
                    .ldb = ldb,
                    .beta = 0.5f,
                    .c = c.data(),
                    .ldc = ldc};
      gemm(args);
      args.c = ref.data();
      gemm_reference(args);
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j)
          CHECK(c[i * ldc + j] == doctest::Approx(ref[i * ldc + j]).epsilon(1e-5));
        // the padding of C is never written
        for (std::size_t j = n; j < ldc; ++j) CHECK(c[i * ldc + j] == c0[i * ldc + j]);
      }
    }
}

TEST_CASE("gemm with an empty output is a no-op; k = 0 scales C by beta") {
  std::vector<float> c{1, 2};
  gemm({.m = 0, .n = 2, .k = 3, .c = c.data(), .ldc = 2});
  CHECK(c == std::vector<float>{1, 2});
  const std::vector<float> dummy{0};
  gemm({.m = 1,
        .n = 2,
        .k = 0,
        .a = dummy.data(),
        .lda = 1,
        .b = dummy.data(),
        .ldb = 2,
        .beta = 0.5f,
        .c = c.data(),
        .ldc = 2});
  CHECK(c == std::vector<float>{0.5f, 1.0f});
}
