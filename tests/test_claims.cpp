// The claims of the seed document about BatchNormalization's moving averages, each checked by
// one test case that docs/claims.md cites by name, so that a verdict there cannot drift from the
// code. docs/figures/make.sh measures the same effects at full size.
#include <doctest/doctest.h>

#include <unistd.h>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "data/batcher.h"
#include "data/generators.h"
#include "io/model_file.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "model/precise_bn.h"
#include "model/sequential.h"
#include "optim/adam.h"
#include "run_program.h"

using namespace normlab;
namespace fs = std::filesystem;

namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// A batch of `rows` x `cols` values ~ N(3, 4).
Tensor normal_batch(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  Rng rng(seed);
  Tensor x(rows, cols);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(3.0 + 2.0 * rng.normal());
  return x;
}

// The training-mode output of a fresh layer with `config` on x, after `steps` training forwards
// on other batches; with `overwrite`, every average (moving and renorm) is set to other values
// just before the forward.
Tensor training_output(const BatchNormConfig& config, bool trainable, bool overwrite,
                       const Tensor& x) {
  BatchNormalization bn(config);
  Rng rng(0);
  bn.build(x.cols(), rng);
  for (std::uint64_t step = 1; step <= 3; ++step)
    bn.forward(normal_batch(16, x.cols(), step), {Mode::Train});
  bn.set_trainable(trainable);
  if (overwrite)
    for (Tensor* t : {&bn.moving_mean, &bn.moving_variance, &bn.moving_stddev, &bn.renorm_mean,
                      &bn.renorm_stddev})
      for (std::size_t j = 0; j < t->size(); ++j) (*t)[j] = 0.5f + static_cast<float>(j);
  return bn.forward(x, {Mode::Train});
}

// Example 3's model (apps/example_imbalanced.cpp), with or without its BN layer.
Sequential example3(std::uint64_t seed, const BatchNormConfig* bn) {
  Sequential model(10, seed);
  model.add(Dense(64));
  if (bn) model.add(BatchNormalization(*bn));
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  return model;
}

// Mean binary cross-entropy of p against y, and the fraction p > 0.5 agrees with y.
struct Score {
  double loss = 0, accuracy = 0, recall = 0;
};
Score score(const Tensor& p, const Tensor& y) {
  Score s;
  double positives = 0;
  for (std::size_t i = 0; i < p.rows(); ++i) {
    const double q = std::clamp(static_cast<double>(p(i, 0)), 1e-7, 1 - 1e-7);
    const bool label = y(i, 0) > 0.5f, predicted = p(i, 0) > 0.5f;
    s.loss -= (label ? std::log(q) : std::log(1 - q)) / static_cast<double>(p.rows());
    s.accuracy += (label == predicted) / static_cast<double>(p.rows());
    positives += label;
    s.recall += label && predicted;
  }
  s.recall /= positives;
  return s;
}

// The model in training mode on `data`, in shuffled batches of `batch` rows (the output the
// training steps see; the moving statistics move, and nothing here reads them).
Score training_mode_score(Sequential& model, const Dataset& data, std::size_t batch) {
  Batcher batches(data.size(), batch, /*shuffle=*/true, /*seed=*/7);
  batches.begin_epoch();
  Dataset b;
  Tensor p(data.size(), 1), y(data.size(), 1);
  std::size_t row = 0;
  while (auto rows = batches.next()) {
    Batcher::gather(data, *rows, b);
    const Tensor& out = model.forward(b.x, Mode::Train);
    for (std::size_t i = 0; i < out.rows(); ++i, ++row) {
      p(row, 0) = out(i, 0);
      y(row, 0) = b.y(i, 0);
    }
  }
  return score(p, y);
}

// Per channel of the BN input z (the Dense outputs), where the moving mean sits between the
// class means: (moving_mean - mean_0) / (mean_1 - mean_0), averaged over channels whose class
// means differ by more than 0.1.
double moving_mean_position(Sequential& model, const Dataset& data) {
  const Tensor z = model.layer(0).forward(data.x, {Mode::Infer});
  const auto& bn = dynamic_cast<const BatchNormalization&>(model.layer(1));
  double sum = 0, channels = 0;
  for (std::size_t j = 0; j < z.cols(); ++j) {
    double mean[2] = {0, 0}, n[2] = {0, 0};
    for (std::size_t i = 0; i < z.rows(); ++i) {
      const int c = data.y(i, 0) > 0.5f;
      mean[c] += z(i, j);
      n[c] += 1;
    }
    mean[0] /= n[0];
    mean[1] /= n[1];
    if (std::abs(mean[1] - mean[0]) <= 0.1) continue;
    sum += (bn.moving_mean[j] - mean[0]) / (mean[1] - mean[0]);
    channels += 1;
  }
  return sum / channels;
}

}  // namespace

TEST_CASE("claim 1: a plain training forward normalizes with the batch, not the averages") {
  const Tensor x = normal_batch(16, 4, 99);
  const BatchNormConfig plain;
  // Training mode: bit for bit the same output whatever the moving statistics hold.
  CHECK(same_bits(training_output(plain, true, false, x), training_output(plain, true, true, x)));

  // Inference mode: the output changes with them.
  BatchNormalization bn(plain);
  Rng rng(0);
  bn.build(4, rng);
  bn.forward(normal_batch(16, 4, 1), {Mode::Train});
  const Tensor before = bn.forward(x, {Mode::Infer});
  bn.moving_mean.fill(0.5f);
  CHECK_FALSE(same_bits(before, bn.forward(x, {Mode::Infer})));
}

TEST_CASE("claim 1: renorm, trainable=false and use_moving_statistics_in_training use them") {
  const Tensor x = normal_batch(16, 4, 99);
  SUBCASE("batch renormalization: r and d come from the renorm averages") {
    const BatchNormConfig renorm{.renorm = true, .renorm_clipping = {.rmax = 3.0f, .dmax = 5.0f}};
    CHECK_FALSE(
        same_bits(training_output(renorm, true, false, x), training_output(renorm, true, true, x)));
  }
  SUBCASE("trainable = false (Keras' fine-tuning rule)") {
    CHECK_FALSE(
        same_bits(training_output({}, false, false, x), training_output({}, false, true, x)));
  }
  SUBCASE("use_moving_statistics_in_training") {
    const BatchNormConfig moving{.use_moving_statistics_in_training = true};
    CHECK_FALSE(
        same_bits(training_output(moving, true, false, x), training_output(moving, true, true, x)));
  }
}

#ifdef NORMLAB_APPS_DIR
TEST_CASE("claim 2: the moving averages are read right after fit, no custom loop") {
  const Dataset data = make_regression(256, 1);
  Sequential model(10, 0);
  model.add(Dense(64));
  model.add(BatchNormalization({.momentum = 0.99f, .name = "bn_layer"}));
  model.add(Activation("relu"));
  model.compile(Adam(), "mse");
  model.fit(data, {.batch_size = 32, .epochs = 3, .verbose = 0});

  // The library call, Keras' model.get_layer('bn_layer').moving_mean: 24 updates moved them.
  auto& bn = dynamic_cast<BatchNormalization&>(model.get_layer("bn_layer"));
  CHECK(bn.moving_mean[0] != 0.0f);
  CHECK(bn.moving_variance[0] != 1.0f);

  // `normlab inspect` on the saved model prints the same values.
  const fs::path dir = fs::temp_directory_path() / ("normlab_claims_" + std::to_string(getpid()));
  save_model(model, dir);
  const auto r = testing::run_program(std::string("'") + NORMLAB_APPS_DIR + "/normlab' inspect '" +
                                      dir.string() + "'");
  fs::remove_all(dir);
  REQUIRE(r.status == 0);
  char first[32];
  std::snprintf(first, sizeof first, "%10.4f", static_cast<double>(bn.moving_mean[0]));
  const auto at = r.out.find("moving_mean:");
  REQUIRE(at != std::string::npos);
  CHECK(r.out.compare(at, std::string("moving_mean:\n  ").size() + std::strlen(first),
                      std::string("moving_mean:\n  ") + first) == 0);
}
#endif

TEST_CASE("claim 3: the initial value keeps weight m^t; the time constant is 1/(1-m)") {
  const Tensor ones(8, 1, 1.0f);  // batch mean 1: moving_mean_t = 1 - m^t from 0
  for (const float m : {0.9f, 0.95f, 0.99f}) {
    CAPTURE(m);
    BatchNormalization bn({.momentum = m});
    Rng rng(0);
    bn.build(1, rng);
    const double tau = 1.0 / (1.0 - m);
    int first_below_1_over_e = 0;
    for (int t = 1; t <= 5 * static_cast<int>(std::lround(tau)); ++t) {
      bn.forward(ones, {Mode::Train});
      const double residual = 1.0 - bn.moving_mean[0];
      CHECK(std::abs(residual - std::pow(static_cast<double>(m), t)) <= 1e-4);
      if (first_below_1_over_e == 0 && residual <= std::exp(-1.0)) first_below_1_over_e = t;
    }
    CHECK(std::abs(first_below_1_over_e - tau) <= 1.0);
  }
  // Example 2's momentum 0.9 adapts faster than the default 0.99: after its first epoch of 32
  // steps the initial value keeps 0.9^32 = 0.03 of its weight, against 0.99^32 = 0.72.
  CHECK(std::pow(0.9, 32) < 0.05);
  CHECK(std::pow(0.99, 32) > 0.7);
}

TEST_CASE("claim 4: training-mode output depends on the batch size, inference does not") {
  set_num_threads(1);
  const Dataset train = make_imbalanced(1), test = make_imbalanced(2);
  const BatchNormConfig bn{.momentum = 0.95f};
  Sequential model = example3(0, &bn);
  model.fit(train, {.batch_size = 32, .epochs = 3, .verbose = 0});
  const double inference = score(model.predict(test.x), test.y).loss;
  const double gap128 = std::abs(training_mode_score(model, test, 128).loss - inference);
  const double gap8 = std::abs(training_mode_score(model, test, 8).loss - inference);
  const double gap2 = std::abs(training_mode_score(model, test, 2).loss - inference);
  CAPTURE(inference);
  CAPTURE(gap128);
  CAPTURE(gap8);
  CAPTURE(gap2);
  CHECK(gap128 < gap8);
  CHECK(gap8 < gap2);
}

TEST_CASE("claim 5: Example 3's minority needs no BN; the moving mean is the majority's") {
  set_num_threads(1);
  const Dataset train = make_imbalanced(1), test = make_imbalanced(2);
  const BatchNormConfig bn{.momentum = 0.95f};
  const BatchNormConfig weighted{.momentum = 0.95f, .weighted_statistics = true};
  for (std::uint64_t seed = 0; seed < 2; ++seed) {
    CAPTURE(seed);
    Sequential with = example3(seed, &bn), without = example3(seed, nullptr);
    with.fit(train, {.batch_size = 32, .epochs = 10, .seed = seed, .verbose = 0});
    without.fit(train, {.batch_size = 32, .epochs = 10, .seed = seed, .verbose = 0});
    CHECK(score(with.predict(test.x), test.y).recall >= 0.98);
    CHECK(score(without.predict(test.x), test.y).recall >= 0.98);
    // The average holds the pooled statistics: 100 of 1100 rows are class 1, a = 0.09.
    CHECK(moving_mean_position(with, train) == doctest::Approx(100.0 / 1100).epsilon(0.25));
    // Class weights 1:10 in weighted statistics balance the classes: a near 1000/2000.
    Sequential balanced = example3(seed, &weighted);
    balanced.fit(train, {.batch_size = 32,
                         .epochs = 10,
                         .seed = seed,
                         .verbose = 0,
                         .class_weight = {{0, 1.0f}, {1, 10.0f}}});
    CHECK(moving_mean_position(balanced, train) == doctest::Approx(0.5).epsilon(0.2));
  }
}

TEST_CASE("claim 6: inference predictions of a row do not depend on its batch") {
  set_num_threads(1);
  const Dataset train = make_imbalanced(1), test = make_imbalanced(2);
  const BatchNormConfig bn{.momentum = 0.95f};
  Sequential model = example3(0, &bn);
  model.fit(train, {.batch_size = 32, .epochs = 2, .verbose = 0});
  // The BN layer alone: each row's inference output is a function of that row only, bit for
  // bit the same alone as in the whole batch.
  const Tensor z = model.layer(0).forward(test.x, {Mode::Infer});
  const Tensor normalized = model.layer(1).forward(z, {Mode::Infer});
  for (const std::size_t row : {0, 500, 1099}) {
    Tensor one(1, z.cols());
    for (std::size_t j = 0; j < z.cols(); ++j) one(0, j) = z(row, j);
    const Tensor& y = model.layer(1).forward(one, {Mode::Infer});
    CHECK(std::memcmp(y.data(), normalized.data() + row * z.cols(), z.cols() * sizeof(float)) == 0);
  }
  // The whole model: the same to float rounding (the matrix products' blocking depends on the
  // number of rows).
  const Tensor all = model.predict(test.x, test.size());
  for (const std::size_t batch : {1, 7, 32}) {
    CAPTURE(batch);
    const Tensor p = model.predict(test.x, batch);
    double worst = 0;
    for (std::size_t i = 0; i < p.rows(); ++i)
      worst = std::max(worst, std::abs(static_cast<double>(p(i, 0)) - all(i, 0)));
    CHECK(worst <= 1e-6);
  }
}

TEST_CASE("claim 6: averages not converged after a short training; recalibration repairs them") {
  set_num_threads(1);
  const Dataset train = make_imbalanced(1), test = make_imbalanced(2);
  const BatchNormConfig bn{.momentum = 0.99f};
  Sequential model = example3(0, &bn);
  // 10 steps: the averages still hold 0.99^10 = 90 % of their initial 0 and 1.
  model.fit(train, {.batch_size = 32, .epochs = 1, .verbose = 0, .steps_per_epoch = 10});
  const double stale = score(model.predict(test.x), test.y).accuracy;
  recalibrate_batchnorm(model, train.x);
  const double recalibrated = score(model.predict(test.x), test.y).accuracy;
  const double training_mode = training_mode_score(model, test, 32).accuracy;
  CAPTURE(stale);
  CAPTURE(recalibrated);
  CAPTURE(training_mode);
  CHECK(stale < training_mode - 0.05);
  CHECK(recalibrated >= training_mode - 0.01);
}
