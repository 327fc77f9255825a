// The vectorized paths of the training step against naive double-precision formulas, at widths
// that are not a multiple of the vector length (so the loops' remainders run too): Dense's bias
// added through the GEMM's beta, and BatchNormalization's row kernels (forward and backward,
// with and without ghost batches).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/blas.h"
#include "core/rng.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"

using namespace normlab;

namespace {

Tensor random_tensor(std::size_t rows, std::size_t cols, Rng& rng) {
  Tensor t(rows, cols);
  for (float& v : t) v = static_cast<float>(rng.normal());
  return t;
}

}  // namespace

TEST_CASE("Dense forward with bias equals gemm_reference plus the bias") {
  Rng rng(5);
  Dense dense(DenseConfig{.units = 13});
  dense.build(7, rng);
  for (float& b : dense.bias) b = static_cast<float>(rng.normal());
  const Tensor x = random_tensor(5, 7, rng);
  const Tensor& y = dense.forward(x, {Mode::Train});
  Tensor expected(5, 13);
  gemm_reference({.m = 5,
                  .n = 13,
                  .k = 7,
                  .a = x.data(),
                  .lda = 7,
                  .b = dense.kernel.data(),
                  .ldb = 13,
                  .c = expected.data(),
                  .ldc = 13});
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 13; ++j)
      CHECK(y(i, j) == doctest::Approx(expected(i, j) + dense.bias[j]).epsilon(1e-5));
}

TEST_CASE("BatchNormalization's row kernels match the formulas in double precision") {
  for (const std::size_t virtual_batch : {std::size_t{0}, std::size_t{3}}) {
    CAPTURE(virtual_batch);
    const std::size_t n = 6, d = 13, groups = virtual_batch ? n / virtual_batch : 1;
    const double eps = 1e-3;
    Rng rng(11);
    BatchNormalization bn({.virtual_batch_size = virtual_batch});
    bn.build(d, rng);
    for (float& v : bn.gamma) v = static_cast<float>(1.0 + 0.5 * rng.normal());
    for (float& v : bn.beta) v = static_cast<float>(rng.normal());
    const Tensor x = random_tensor(n, d, rng), dy = random_tensor(n, d, rng);
    const Tensor y = bn.forward(x, {Mode::Train});
    const Tensor& dx = bn.backward(dy);
    // Row i is in ghost batch i mod G, of n / G rows.
    const double rows = static_cast<double>(n / groups);
    for (std::size_t g = 0; g < groups; ++g)
      for (std::size_t j = 0; j < d; ++j) {
        double mean = 0.0, var = 0.0, mean_dy = 0.0, mean_dy_xhat = 0.0;
        for (std::size_t i = g; i < n; i += groups) mean += x(i, j) / rows;
        for (std::size_t i = g; i < n; i += groups)
          var += (x(i, j) - mean) * (x(i, j) - mean) / rows;
        const double inv_std = 1.0 / std::sqrt(var + eps);
        for (std::size_t i = g; i < n; i += groups) {
          mean_dy += dy(i, j) / rows;
          mean_dy_xhat += dy(i, j) * (x(i, j) - mean) * inv_std / rows;
        }
        for (std::size_t i = g; i < n; i += groups) {
          const double xhat = (x(i, j) - mean) * inv_std;
          CHECK(y(i, j) == doctest::Approx(bn.gamma[j] * xhat + bn.beta[j]).epsilon(1e-5));
          const double expected =
              bn.gamma[j] * inv_std * (dy(i, j) - mean_dy - xhat * mean_dy_xhat);
          CHECK(dx(i, j) == doctest::Approx(expected).epsilon(1e-4).scale(1.0));
        }
      }
  }
}
