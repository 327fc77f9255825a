// BatchNormalization diagnostics (model/bn_diagnostics.h) against closed forms: on data whose
// every batch has mean mu and variance v, after t updates with momentum m
//   moving_mean = (1 - m^t) mu,  moving_variance = m^t + (1 - m^t) v,  initial weight m^t,
// window 1/(1 - m), gap = moving - population; the cumulative average's weight 0 and window t;
// compare_modes' training-mode loss v/(v + eps) for a BN followed by an MSE against 0, its
// inference loss equal to evaluate()'s, and no state changed; the update counter skipping
// frozen layers and the batches their layer did not update.
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "model/bn_diagnostics.h"
#include "optim/sgd.h"

using namespace normlab;

namespace {

// 8 rows in two batches of 4, each batch with column means mu = (3, -1) and biased variances
// v = a^2 = (4, 0.25): rows mu - a, mu + a, mu - a, mu + a.
constexpr double kMu[] = {3.0, -1.0};
constexpr double kA[] = {2.0, 0.5};

Tensor constant_statistics_data() {
  Tensor x(8, 2);
  for (std::size_t i = 0; i < 8; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      x(i, j) = static_cast<float>(kMu[j] + (i % 2 ? kA[j] : -kA[j]));
  return x;
}

Sequential bn_model(const BatchNormConfig& config) {
  Sequential model(2);
  model.add(BatchNormalization(config));
  model.compile(SGD(), "mse");
  return model;
}

}  // namespace

TEST_CASE("batchnorm_diagnostics: the closed form of an exponential average") {
  const Tensor x = constant_statistics_data();
  Sequential model = bn_model({.momentum = 0.9f});
  BatchNormUpdateCounter counter;
  model.fit(
      x, Tensor(8, 2),
      {.batch_size = 4, .epochs = 3, .shuffle = false, .verbose = 0, .callbacks = {&counter}});
  REQUIRE(counter.counts().at("batch_normalization") == 6.0);

  const auto diagnostics = batchnorm_diagnostics(model, x, counter.counts());
  REQUIRE(diagnostics.size() == 1);
  const BatchNormDiagnostics& d = diagnostics[0];
  const double residual = std::pow(0.9, 6);
  CHECK(d.name == "batch_normalization");
  CHECK(d.averaging == "exponential");
  CHECK(*d.updates == 6.0);
  CHECK(*d.initial_weight == doctest::Approx(residual).epsilon(1e-6));
  CHECK(*d.effective_window == doctest::Approx(10.0).epsilon(1e-6));
  CHECK(d.rows == 8);
  for (std::size_t j = 0; j < 2; ++j) {
    const double v = kA[j] * kA[j];
    CHECK(d.moving_mean[j] == doctest::Approx((1 - residual) * kMu[j]).epsilon(1e-5));
    CHECK(d.moving_variance[j] == doctest::Approx(residual + (1 - residual) * v).epsilon(1e-5));
    CHECK(d.population_mean[j] == doctest::Approx(kMu[j]).epsilon(1e-12));
    CHECK(d.population_variance[j] == doctest::Approx(v).epsilon(1e-12));
    CHECK(d.moving_mean[j] - d.population_mean[j] ==
          doctest::Approx(-residual * kMu[j]).epsilon(1e-4));
  }
  // Without a recorded count the figures that need t are unknown.
  const auto unknown = batchnorm_diagnostics(model, x);
  CHECK_FALSE(unknown[0].updates.has_value());
  CHECK_FALSE(unknown[0].initial_weight.has_value());
  CHECK(*unknown[0].effective_window == doctest::Approx(10.0).epsilon(1e-6));
}

TEST_CASE("batchnorm_diagnostics: a cumulative average reads its own counter") {
  const Tensor x = constant_statistics_data();
  Sequential model = bn_model({.cumulative_average = true});
  model.fit(x, Tensor(8, 2), {.batch_size = 4, .epochs = 2, .shuffle = false, .verbose = 0});
  const BatchNormDiagnostics d = batchnorm_diagnostics(model, x)[0];
  CHECK(d.averaging == "cumulative");
  CHECK(*d.updates == 4.0);
  CHECK(*d.initial_weight == 0.0);
  CHECK(*d.effective_window == 4.0);
  // Every batch has the population statistics, so the cumulative average is exact.
  for (std::size_t j = 0; j < 2; ++j)
    CHECK(d.moving_mean[j] == doctest::Approx(kMu[j]).epsilon(1e-6));
}

TEST_CASE("compare_modes: batch statistics against moving statistics, nothing changed") {
  const Tensor x = constant_statistics_data();
  Sequential model = bn_model({.momentum = 0.5f});
  const auto& bn = dynamic_cast<const BatchNormalization&>(model.layer(0));
  const Tensor mean_before = bn.moving_mean, variance_before = bn.moving_variance;
  const ModeComparison modes = compare_modes(model, x, Tensor(8, 2), 4);
  // Training mode: y = (x - mu) / sqrt(v + eps) per batch, so mse = mean_j v_j / (v_j + eps).
  double want = 0.0;
  for (const double a : kA) want += a * a / (a * a + 1e-3) / 2.0;
  CHECK(log_value(modes.training, "loss") == doctest::Approx(want).epsilon(1e-6));
  CHECK(log_value(modes.inference, "loss") ==
        doctest::Approx(log_value(model.evaluate(x, Tensor(8, 2), 4), "loss")).epsilon(1e-7));
  // Moving statistics still at their initial 0 and 1: inference mse = mean(x^2) / (1 + eps).
  CHECK(log_value(modes.inference, "loss") > 2.0);
  CHECK(bn.moving_mean == mean_before);
  CHECK(bn.moving_variance == variance_before);
  CHECK_THROWS_AS(compare_modes(model, x, Tensor(7, 2), 4), Error);
}

TEST_CASE("BatchNormUpdateCounter skips frozen layers and those with frozen statistics") {
  Sequential model(2);
  model.add(BatchNormalization());
  model.add(Dense(2));
  model.add(BatchNormalization({.freeze_statistics = true}));
  model.add(BatchNormalization());
  model.layer(3).set_trainable(false);
  model.compile(SGD(), "mse");
  BatchNormUpdateCounter counter({{"batch_normalization", 10.0}});
  model.fit(constant_statistics_data(), Tensor(8, 2),
            {.batch_size = 3, .epochs = 1, .verbose = 0, .callbacks = {&counter}});
  CHECK(counter.counts() == std::map<std::string, double>{{"batch_normalization", 13.0}});
}

TEST_CASE(
    "BatchNormUpdateCounter counts what the layer did: a one-row batch under "
    "single_sample_policy \"inference\" updates nothing") {
  // 8 rows in batches of 7 and 1: the one-row batch is normalized with the moving statistics
  // and leaves them as they are, so each epoch updates once. The debiased average keeps the
  // layer's own count (num_batches_tracked) to compare with.
  Sequential model(2);
  model.add(BatchNormalization(
      {.moving_average_debias = true, .single_sample_policy = SingleSamplePolicy::Inference}));
  model.compile(SGD(), "mse");
  BatchNormUpdateCounter counter;
  model.fit(
      constant_statistics_data(), Tensor(8, 2),
      {.batch_size = 7, .epochs = 2, .shuffle = false, .verbose = 0, .callbacks = {&counter}});
  const auto& bn = dynamic_cast<const BatchNormalization&>(model.layer(0));
  CHECK(bn.num_batches_tracked[0] == 2.0f);
  CHECK(counter.counts() == std::map<std::string, double>{{"batch_normalization", 2.0}});
}
