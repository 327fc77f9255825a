// BatchNormalization: hand values on tiny integer batches, central-difference gradient checks
// (training mode over several batch sizes, frozen, without center/scale), the moving averages
// (closed form, exact recursion, rates on generated data), inference with them, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "gradient_check.h"
#include "layers/batch_normalization.h"
#include "model/sequential.h"

using namespace normlab;
namespace gc = normlab::gradient_check;

namespace {

BatchNormalization built(const BatchNormConfig& config, std::size_t d) {
  BatchNormalization bn(config);
  Rng rng(0);
  bn.build(d, rng);
  return bn;
}

// Per-feature mean and biased variance of x, in double.
struct Stats {
  std::vector<double> mean, var;
};
Stats batch_stats(const Tensor& x) {
  const std::size_t n = x.rows(), d = x.cols();
  Stats s{std::vector<double>(d, 0.0), std::vector<double>(d, 0.0)};
  for (std::size_t j = 0; j < d; ++j) {
    for (std::size_t i = 0; i < n; ++i) s.mean[j] += x(i, j);
    s.mean[j] /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) s.var[j] += (x(i, j) - s.mean[j]) * (x(i, j) - s.mean[j]);
    s.var[j] /= static_cast<double>(n);
  }
  return s;
}

// Random gamma in [0.5, 1.5) and beta in [-0.5, 0.5), so that neither hides a wrong term.
void randomize_affine(BatchNormalization& bn, Rng& rng) {
  bn.gamma = gc::random_tensor(1, bn.input_dim(), rng, 0.5, 1.5);
  bn.beta = gc::random_tensor(1, bn.input_dim(), rng, -0.5, 0.5);
}

}  // namespace

TEST_CASE("BN training forward on x = [[1], [3]]: mean 2, var 1, y = -+1/sqrt(1 + eps)") {
  BatchNormalization bn = built({}, 1);
  const Tensor& y = bn.forward(Tensor{{1}, {3}}, {Mode::Train});
  const double r = 1.0 / std::sqrt(1.0 + 1e-3);  // 0.99950037...
  CHECK(bn.batch_mean()[0] == 2.0f);
  CHECK(bn.batch_variance()[0] == 1.0f);
  CHECK(y(0, 0) == doctest::Approx(-r).epsilon(1e-6));
  CHECK(y(1, 0) == doctest::Approx(r).epsilon(1e-6));
  // moving_mean = 0 * 0.99 + 2 * 0.01 = 0.02;  moving_variance = 1 * 0.99 + 1 * 0.01 = 1
  CHECK(bn.moving_mean[0] == doctest::Approx(0.02).epsilon(1e-6));
  CHECK(bn.moving_variance[0] == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("BN on x = [[1], [5]] with gamma 2, beta 1: y = 2 (-+2/sqrt(4 + eps)) + 1") {
  BatchNormalization bn = built({}, 1);
  bn.gamma = Tensor{{2}};
  bn.beta = Tensor{{1}};
  // Inference first, with the initial moving statistics 0 and 1: y = 2 x / sqrt(1 + eps) + 1
  const Tensor& yi = bn.forward(Tensor{{1}, {5}}, {Mode::Infer});
  CHECK(yi(1, 0) == doctest::Approx(10.0 / std::sqrt(1.001) + 1.0).epsilon(1e-6));
  CHECK(bn.moving_mean[0] == 0.0f);  // inference changes nothing
  CHECK(bn.moving_variance[0] == 1.0f);

  const Tensor& y = bn.forward(Tensor{{1}, {5}}, {Mode::Train});  // mean 3, var 4
  CHECK(y(0, 0) == doctest::Approx(-4.0 / std::sqrt(4.001) + 1.0).epsilon(1e-6));
  CHECK(y(1, 0) == doctest::Approx(4.0 / std::sqrt(4.001) + 1.0).epsilon(1e-6));
  // moving_mean = 3 * 0.01 = 0.03;  moving_variance = 0.99 + 4 * 0.01 = 1.03
  CHECK(bn.moving_mean[0] == doctest::Approx(0.03).epsilon(1e-6));
  CHECK(bn.moving_variance[0] == doctest::Approx(1.03).epsilon(1e-6));
}

TEST_CASE("BN moving_variance_update unbiased scales the batch variance by N/(N-1)") {
  BatchNormalization bn = built({.moving_variance_update = VarianceUpdate::Unbiased}, 1);
  bn.forward(Tensor{{1}, {3}}, {Mode::Train});  // biased var 1, unbiased 2
  CHECK(bn.moving_variance[0] == doctest::Approx(0.99 + 0.02).epsilon(1e-6));
  BatchNormalization one = built({.moving_variance_update = VarianceUpdate::Unbiased}, 1);
  CHECK_THROWS_WITH_AS(one.forward(Tensor{{1}}, {Mode::Train}),
                       doctest::Contains("needs a batch of at least 2 rows"), Error);
}

TEST_CASE("BN backward on x = [[1], [3]], dy = [[1], [0]] by hand") {
  BatchNormalization bn = built({}, 1);
  bn.forward(Tensor{{1}, {3}}, {Mode::Train});
  bn.zero_grad();
  const Tensor dx = bn.backward(Tensor{{1}, {0}});
  // xhat = [-r, r], r = 1/sqrt(1 + eps); sum g = 1, sum g xhat = -r
  // dx = gamma r (g - 1/2 - xhat (-r)/2) = r (1 - r^2)/2 [1, -1],  1 - r^2 = eps/(1 + eps)
  const double r = 1.0 / std::sqrt(1.001);
  const double expected = r * (1e-3 / 1.001) / 2.0;  // 4.99e-4
  CHECK(dx(0, 0) == doctest::Approx(expected).epsilon(1e-3));
  CHECK(dx(1, 0) == doctest::Approx(-expected).epsilon(1e-3));
  CHECK(bn.dbeta[0] == 1.0f);
  CHECK(bn.dgamma[0] == doctest::Approx(-r).epsilon(1e-6));
}

TEST_CASE("BN batch of one row: variance 0, so y = beta (Keras)") {
  BatchNormalization bn = built({}, 2);
  bn.beta = Tensor{{0.5f, -2}};
  CHECK(bn.forward(Tensor{{7, -3}}, {Mode::Train}) == Tensor{{0.5f, -2}});
  // moving_variance = 0.99 * 1 + 0.01 * 0
  CHECK(bn.moving_variance[0] == doctest::Approx(0.99).epsilon(1e-6));
}

TEST_CASE("BN gradients match central differences in training mode for N = 2, 3, 8, 32") {
  for (std::size_t n : {2u, 3u, 8u, 32u})
    for (float eps : {1e-3f, 0.5f}) {
      CAPTURE(n);
      CAPTURE(eps);
      const std::size_t d = 3;
      BatchNormalization bn = built({.epsilon = eps}, d);
      Rng rng(1000 + n);
      randomize_affine(bn, rng);
      // Offset features of scale ~1; a larger variance would only make dx smaller.
      Tensor x = gc::random_tensor(n, d, rng, -1.5, 2.5);
      // With N = 2 the two rows must differ: var = (x1 - x2)^2 / 4 well above h^2.
      for (double v : batch_stats(x).var) REQUIRE(v > 0.05);
      const Tensor w = gc::random_tensor(n, d, rng, -1.0, 1.0);
      const gc::Result r = gc::check_layer(bn, x, w);
      CHECK_MESSAGE(r.ok(), r.summary());
      CHECK(r.checked == n * d + 2 * d);
    }
}

TEST_CASE("BN gradients without center and/or scale") {
  for (bool center : {true, false})
    for (bool scale : {true, false}) {
      CAPTURE(center);
      CAPTURE(scale);
      const std::size_t n = 6, d = 2;
      BatchNormalization bn = built({.center = center, .scale = scale}, d);
      Rng rng(7);
      randomize_affine(bn, rng);  // ignored where center/scale is off
      Tensor x = gc::random_tensor(n, d, rng, -2.0, 2.0);
      const Tensor w = gc::random_tensor(n, d, rng, -1.0, 1.0);
      const gc::Result r = gc::check_layer(bn, x, w);
      CHECK_MESSAGE(r.ok(), r.summary());
      CHECK(r.checked == n * d + ((center ? 1 : 0) + (scale ? 1 : 0)) * d);
      std::size_t trainable = 0;
      for (const auto& v : bn.variables()) trainable += v.trainable();
      CHECK(trainable == (center ? 1u : 0u) + (scale ? 1u : 0u));
      // y = xhat (gamma 1, beta 0) where both are off: mean 0 per feature
      if (!center && !scale) {
        const Tensor& y = bn.forward(x, {Mode::Train});
        for (std::size_t j = 0; j < d; ++j) {
          double sum = 0.0;
          for (std::size_t i = 0; i < n; ++i) sum += y(i, j);
          CHECK(std::fabs(sum) < 1e-5);
        }
      }
    }
}

TEST_CASE("Frozen BN (trainable=false): moving statistics in training mode, constant dx scale") {
  const std::size_t n = 4, d = 3;
  BatchNormalization bn = built({}, d);
  bn.set_trainable(false);
  Rng rng(3);
  randomize_affine(bn, rng);
  bn.moving_mean = gc::random_tensor(1, d, rng, -1.0, 1.0);
  bn.moving_variance = gc::random_tensor(1, d, rng, 0.5, 2.0);
  const Tensor mean0 = bn.moving_mean, var0 = bn.moving_variance;
  Tensor x = gc::random_tensor(n, d, rng, -2.0, 2.0);
  const Tensor w = gc::random_tensor(n, d, rng, -1.0, 1.0);
  const gc::Result r = gc::check_layer(bn, x, w);
  CHECK_MESSAGE(r.ok(), r.summary());
  CHECK(bn.moving_mean == mean0);  // dozens of training forwards later
  CHECK(bn.moving_variance == var0);
  // dx = gamma dy / sqrt(moving_variance + eps), row by row
  bn.zero_grad();
  bn.forward(x, {Mode::Train});
  const Tensor& dx = bn.backward(w);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j)
      CHECK(dx(i, j) ==
            doctest::Approx(bn.gamma[j] * w(i, j) / std::sqrt(var0[j] + 1e-3)).epsilon(1e-5));
}

TEST_CASE("The gradient checker rejects BN's dx without the xhat * mean(g * xhat) term") {
  for (std::size_t n : {2u, 8u}) {
    CAPTURE(n);
    const std::size_t d = 2;
    const double eps = 1e-3;
    BatchNormalization bn = built({}, d);
    Rng rng(21);
    randomize_affine(bn, rng);
    Tensor x = gc::random_tensor(n, d, rng, -2.0, 2.0);
    const Tensor w = gc::random_tensor(n, d, rng, -1.0, 1.0);
    const auto objective = gc::layer_objective(bn, x, w);
    CHECK(gc::check_tensor("dx", x, gc::layer_gradients(bn, x, w).dx, objective, 1e-2).ok());
    // dx_wrong = gamma / sqrt(var + eps) (g - mean(g)), computed here in double
    const Stats s = batch_stats(x);
    Tensor dx_wrong(n, d);
    for (std::size_t j = 0; j < d; ++j) {
      double mean_g = 0.0;
      for (std::size_t i = 0; i < n; ++i) mean_g += w(i, j) / static_cast<double>(n);
      for (std::size_t i = 0; i < n; ++i)
        dx_wrong(i, j) =
            static_cast<float>(bn.gamma[j] / std::sqrt(s.var[j] + eps) * (w(i, j) - mean_g));
    }
    const gc::Result wrong = gc::check_tensor("dx", x, dx_wrong, objective, 1e-2);
    CHECK_FALSE(wrong.ok());
    MESSAGE("dropped term detected: " << wrong.summary());
  }
}

TEST_CASE("BN moving statistics after k steps on a constant batch: mu (1 - b^k) + m0 b^k") {
  const float beta = 0.9f;
  BatchNormalization bn = built({.momentum = beta}, 2);
  bn.moving_mean = Tensor{{2, -1}};
  bn.moving_variance = Tensor{{0.5f, 3}};
  const Tensor x{{1, 0}, {3, 4}, {8, 2}};  // mean [4, 2], biased var [26/3, 8/3]
  const double mu[] = {4.0, 2.0}, var[] = {26.0 / 3.0, 8.0 / 3.0};
  const double m0[] = {2.0, -1.0}, v0[] = {0.5, 3.0};
  for (int k = 1; k <= 40; ++k) {
    bn.forward(x, {Mode::Train});
    if (k != 1 && k != 5 && k != 40) continue;
    CAPTURE(k);
    const double bk = std::pow(static_cast<double>(beta), k);
    for (int j = 0; j < 2; ++j) {
      CHECK(bn.moving_mean[j] == doctest::Approx(mu[j] * (1 - bk) + m0[j] * bk).epsilon(1e-5));
      CHECK(bn.moving_variance[j] == doctest::Approx(var[j] * (1 - bk) + v0[j] * bk).epsilon(1e-5));
    }
  }
}

TEST_CASE("BN moving statistics over varying batches follow the exact recursion (in double)") {
  const double beta = 0.95;
  const std::size_t d = 3;
  BatchNormalization bn = built({.momentum = static_cast<float>(beta)}, d);
  std::vector<double> mean(d, 0.0), var(d, 1.0);  // Keras' initial state
  Rng rng(8);
  for (int step = 0; step < 30; ++step) {
    const std::size_t n = 1 + rng.below(20);  // 1..20 rows, the last partial batch included
    Tensor x = gc::random_tensor(n, d, rng, -1.0, 1.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < d; ++j) x(i, j) = x(i, j) * (1.0f + step * 0.1f) + 0.2f * step;
    bn.forward(x, {Mode::Train});
    // m <- m b + mean (1 - b),  v <- v b + var (1 - b)
    const Stats s = batch_stats(x);
    for (std::size_t j = 0; j < d; ++j) {
      mean[j] = mean[j] * beta + s.mean[j] * (1 - beta);
      var[j] = var[j] * beta + s.var[j] * (1 - beta);
    }
  }
  for (std::size_t j = 0; j < d; ++j) {
    CHECK(bn.moving_mean[j] == doctest::Approx(mean[j]).epsilon(1e-5));
    CHECK(bn.moving_variance[j] == doctest::Approx(var[j]).epsilon(1e-5));
  }
}

TEST_CASE("BN inference uses the moving statistics: rows are independent, unlike training") {
  const std::size_t d = 2;
  Sequential model(d);
  auto& bn = model.add(BatchNormalization({.momentum = 0.5f}));
  Rng rng(4);
  for (int k = 0; k < 5; ++k) model.forward(gc::random_tensor(8, d, rng, 1.0, 3.0), true);
  const Tensor mm = bn.moving_mean, mv = bn.moving_variance;
  CHECK(mm[0] > 1.0f);  // the statistics moved toward the data (mean ~2)

  Tensor x = gc::random_tensor(4, d, rng, 0.0, 4.0);
  const Tensor p = model.predict(x);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < d; ++j)  // gamma 1, beta 0
      CHECK(p(i, j) == doctest::Approx((x(i, j) - mm[j]) / std::sqrt(mv[j] + 1e-3)).epsilon(1e-5));
  CHECK(bn.moving_mean == mm);  // predict changes nothing
  CHECK(bn.moving_variance == mv);

  Tensor other = x;
  for (std::size_t i = 1; i < 4; ++i) {
    other(i, 0) += 10.0f;
    other(i, 1) -= 5.0f;
  }
  const Tensor q = model.predict(other);
  CHECK(q(0, 0) == p(0, 0));  // row 0 unchanged: it sees only itself and the moving stats
  CHECK(q(0, 1) == p(0, 1));
  const Tensor t1 = model.forward(x, Mode::Train);
  const Tensor t2 = model.forward(other, Mode::Train);
  CHECK(std::fabs(t1(0, 0) - t2(0, 0)) > 1e-3f);  // training: row 0 depends on the batch
}

TEST_CASE("BN moving statistics approach the population ones at rate momentum^t") {
  // Data N(5, 2^2) in 16 features, fresh batches of 200 rows (normlab::Rng). From the initial
  // moving_mean 0 and moving_variance 1, after t steps E[moving] = target + (init - target) b^t,
  // target = 5 for the mean and E[biased var] = 4 (N - 1)/N for the variance. The residual
  // weight of the initial value, (target - moving) / (target - init), averaged over features,
  // should equal b^t. Its noise: the batch-mean error sigma/sqrt(N) = 0.14 becomes
  // 0.14 sqrt((1 - b)/(1 + b)) in the average, /4 over features, /5 for the residual: <= 0.002;
  // for the variance, sd of the batch variance 4 sqrt(2/N) = 0.4 gives <= 0.008. The bounds
  // below are ~6 of those.
  const std::size_t n = 200, d = 16;
  const double mu = 5.0, sigma = 2.0, var_target = sigma * sigma * (n - 1) / n;
  struct Case {
    float momentum;
    int steps;
  };
  for (const Case c : {Case{0.99f, 50}, Case{0.99f, 200}, Case{0.9f, 10}, Case{0.9f, 50}}) {
    CAPTURE(c.momentum);
    CAPTURE(c.steps);
    BatchNormalization bn = built({.momentum = c.momentum}, d);
    Rng rng(77);
    Tensor x(n, d);
    for (int t = 0; t < c.steps; ++t) {
      for (float& v : x) v = static_cast<float>(mu + sigma * rng.normal());
      bn.forward(x, {Mode::Train});
    }
    double residual_mean = 0.0, residual_var = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      residual_mean += (mu - bn.moving_mean[j]) / (mu - 0.0) / d;
      residual_var += (var_target - bn.moving_variance[j]) / (var_target - 1.0) / d;
    }
    const double expected = std::pow(static_cast<double>(c.momentum), c.steps);
    MESSAGE("momentum " << c.momentum << ", t = " << c.steps << ": residual weight of the init "
                        << residual_mean << " (mean), " << residual_var
                        << " (variance), b^t = " << expected);
    CHECK(std::fabs(residual_mean - expected) < 0.012);
    CHECK(std::fabs(residual_var - expected) < 0.05);
  }
}

TEST_CASE("BN variables in Keras' order; moving statistics are non-trainable") {
  BatchNormalization bn = built({}, 5);
  const auto vars = bn.variables();
  REQUIRE(vars.size() == 4);
  CHECK(vars[0].name == "gamma");
  CHECK(vars[1].name == "beta");
  CHECK(vars[2].name == "moving_mean");
  CHECK(vars[3].name == "moving_variance");
  CHECK(vars[0].trainable());
  CHECK_FALSE(vars[2].trainable());
  CHECK(bn.count_params(true) == 10);
  CHECK(bn.count_params(false) == 10);
  CHECK(bn.gamma == Tensor(1, 5, 1.0f));
  CHECK(bn.beta == Tensor(1, 5));
  CHECK(bn.moving_mean == Tensor(1, 5));
  CHECK(bn.moving_variance == Tensor(1, 5, 1.0f));
  const auto no_center = built({.center = false}, 5).variables();
  REQUIRE(no_center.size() == 3);
  CHECK(no_center[0].name == "gamma");
  CHECK(no_center[1].name == "moving_mean");
}

TEST_CASE("BN errors: momentum outside [0, 1), epsilon <= 0, initializers, shapes, backward") {
  CHECK_THROWS_WITH_AS(BatchNormalization({.momentum = 1.0f}),
                       doctest::Contains("momentum must be in [0, 1), got 1"), Error);
  CHECK_THROWS_WITH_AS(BatchNormalization({.momentum = -0.1f}),
                       doctest::Contains("momentum must be in [0, 1), got -0.1"), Error);
  CHECK_NOTHROW(BatchNormalization({.momentum = 0.0f}));
  CHECK_THROWS_WITH_AS(BatchNormalization({.epsilon = 0.0f}),
                       doctest::Contains("epsilon must be > 0, got 0"), Error);
  CHECK_THROWS_WITH_AS(BatchNormalization({.epsilon = -1e-3f}),
                       doctest::Contains("epsilon must be > 0, got -0.001"), Error);
  CHECK_THROWS_WITH_AS(BatchNormalization({.gamma_initializer = "random_normal"}),
                       doctest::Contains("unknown initializer 'random_normal'"), Error);
  CHECK_THROWS_WITH_AS(parse_variance_update("sample"),
                       doctest::Contains("unknown moving_variance_update 'sample'"), Error);

  BatchNormalization bn = built({.name = "bn"}, 3);
  CHECK_THROWS_WITH_AS(bn.backward(Tensor(2, 3)),
                       doctest::Contains("layer 'bn' (BatchNormalization): backward() called "
                                         "without a training-mode forward()"),
                       Error);
  CHECK_THROWS_WITH_AS(bn.forward(Tensor(2, 4), {Mode::Train}),
                       doctest::Contains("expected input of shape (N, 3) with N >= 1, got (2, 4)"),
                       Error);
  bn.forward(Tensor(2, 3), {Mode::Infer});
  CHECK_THROWS_AS(bn.backward(Tensor(2, 3)), Error);
}
