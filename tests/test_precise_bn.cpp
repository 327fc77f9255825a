// recalibrate_batchnorm (model/precise_bn.h): the moving statistics become the exact population
// mean and biased variance of each BatchNormalization layer's inference-mode input, checked
// against double-precision loops written out here; two BN layers deep, so that the second one's
// input depends on the first one's recalibrated statistics; batch sizes that leave a partial
// last batch; the "unbiased" estimator; the batches limit; and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "io/train_config.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "model/precise_bn.h"

using namespace normlab;

namespace {

using Matrix = std::vector<std::vector<double>>;

// Dense(4) -> BN -> ReLU -> Dense(3) -> BN, momentum 0.9: the moving statistics after a few
// fit-free forwards are far from the population ones (they start at 0 and 1).
Sequential two_bn_model(VarianceUpdate update = VarianceUpdate::Biased) {
  Sequential model(3, 7);
  model.add(Dense(4));
  model.add(BatchNormalization({.momentum = 0.9f, .moving_variance_update = update}));
  model.add(Activation("relu"));
  model.add(Dense(3));
  model.add(BatchNormalization({.momentum = 0.9f, .moving_variance_update = update}));
  return model;
}

Tensor data(std::size_t rows) {
  Rng rng(11);
  Tensor x(rows, 3);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < 3; ++j) x(i, j) = static_cast<float>(2.0 * rng.normal() + j);
  return x;
}

Matrix dense(const Matrix& x, const Dense& layer) {
  Matrix y(x.size(), std::vector<double>(layer.kernel.cols()));
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t o = 0; o < y[i].size(); ++o) {
      double z = layer.bias[o];
      for (std::size_t k = 0; k < x[i].size(); ++k) z += x[i][k] * layer.kernel(k, o);
      y[i][o] = z;
    }
  return y;
}

// Per column: mean, and sum of squared deviations / N.
std::pair<std::vector<double>, std::vector<double>> moments(const Matrix& h) {
  const std::size_t d = h[0].size();
  std::vector<double> mean(d, 0.0), var(d, 0.0);
  for (const auto& row : h)
    for (std::size_t j = 0; j < d; ++j) mean[j] += row[j] / static_cast<double>(h.size());
  for (const auto& row : h)
    for (std::size_t j = 0; j < d; ++j)
      var[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / static_cast<double>(h.size());
  return {mean, var};
}

// Inference BN followed by ReLU, with the given statistics.
Matrix bn_relu(const Matrix& h, const std::vector<double>& mean, const std::vector<double>& var,
               const BatchNormalization& bn) {
  Matrix y = h;
  for (auto& row : y)
    for (std::size_t j = 0; j < row.size(); ++j)
      row[j] =
          std::max(0.0, bn.gamma[j] * (row[j] - mean[j]) / std::sqrt(var[j] + bn.config().epsilon) +
                            bn.beta[j]);
  return y;
}

void check_close(const Tensor& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t j = 0; j < want.size(); ++j)
    CHECK(got[j] == doctest::Approx(want[j]).epsilon(1e-5));
}

}  // namespace

TEST_CASE("recalibrate_batchnorm gives the exact population statistics, layer by layer") {
  const std::size_t rows = 103;  // batch sizes 10, 32 and 103 leave a last batch of 3, 7, 103
  const Tensor x = data(rows);
  for (const std::size_t batch_size : {10, 32, 103, 500}) {
    CAPTURE(batch_size);
    Sequential model = two_bn_model();
    // A few training forwards move the moving statistics off their initial values.
    model.forward(x, Mode::Train);
    recalibrate_batchnorm(model, x, {.batch_size = batch_size});
    const auto& d1 = dynamic_cast<const Dense&>(model.layer(0));
    const auto& bn1 = dynamic_cast<const BatchNormalization&>(model.layer(1));
    const auto& d2 = dynamic_cast<const Dense&>(model.layer(3));
    const auto& bn2 = dynamic_cast<const BatchNormalization&>(model.layer(4));

    Matrix input(rows, std::vector<double>(3));
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < 3; ++j) input[i][j] = x(i, j);
    const Matrix h1 = dense(input, d1);
    const auto [mean1, var1] = moments(h1);
    check_close(bn1.moving_mean, mean1);
    check_close(bn1.moving_variance, var1);
    // Layer 2 sees layer 1 normalized with the recalibrated (population) statistics.
    const auto [mean2, var2] = moments(dense(bn_relu(h1, mean1, var1, bn1), d2));
    check_close(bn2.moving_mean, mean2);
    check_close(bn2.moving_variance, var2);
  }
}

TEST_CASE("recalibrate_batchnorm keeps the trainable weights and follows the variance estimator") {
  const Tensor x = data(40);
  Sequential model = two_bn_model(VarianceUpdate::Unbiased);
  const auto& bn1 = dynamic_cast<const BatchNormalization&>(model.layer(1));
  const Tensor kernel = dynamic_cast<const Dense&>(model.layer(0)).kernel;
  const Tensor gamma = bn1.gamma;
  recalibrate_batchnorm(model, x, {.batch_size = 16});
  CHECK(dynamic_cast<const Dense&>(model.layer(0)).kernel == kernel);
  CHECK(bn1.gamma == gamma);
  Matrix input(40, std::vector<double>(3));
  for (std::size_t i = 0; i < 40; ++i)
    for (std::size_t j = 0; j < 3; ++j) input[i][j] = x(i, j);
  auto [mean, var] = moments(dense(input, dynamic_cast<const Dense&>(model.layer(0))));
  for (double& v : var) v *= 40.0 / 39.0;  // "unbiased": N/(N-1)
  check_close(bn1.moving_mean, mean);
  check_close(bn1.moving_variance, var);
}

TEST_CASE("recalibrate_batchnorm reads only the first `batches` batches") {
  const Tensor x = data(100);
  Sequential a = two_bn_model(), b = two_bn_model();
  recalibrate_batchnorm(a, x, {.batch_size = 8, .batches = 3});
  Tensor first(24, 3);
  std::copy(x.begin(), x.begin() + 24 * 3, first.begin());
  recalibrate_batchnorm(b, first, {.batch_size = 24});
  for (const std::size_t k : {1, 4}) {
    const auto& bn_a = dynamic_cast<const BatchNormalization&>(a.layer(k));
    const auto& bn_b = dynamic_cast<const BatchNormalization&>(b.layer(k));
    for (std::size_t j = 0; j < bn_a.moving_mean.size(); ++j) {
      CHECK(bn_a.moving_mean[j] == doctest::Approx(bn_b.moving_mean[j]).epsilon(1e-6));
      CHECK(bn_a.moving_variance[j] == doctest::Approx(bn_b.moving_variance[j]).epsilon(1e-6));
    }
  }
}

TEST_CASE("recalibrate_batchnorm rejects data that does not fit") {
  Sequential model = two_bn_model();
  CHECK_THROWS_WITH_AS(recalibrate_batchnorm(model, Tensor(5, 4)),
                       doctest::Contains("4 columns, but the model takes inputs of width 3"),
                       Error);
  CHECK_THROWS_WITH_AS(recalibrate_batchnorm(model, Tensor(0, 3)), doctest::Contains("no rows"),
                       Error);
  CHECK_THROWS_WITH_AS(recalibrate_batchnorm(model, Tensor(5, 3), {.batch_size = 0}),
                       doctest::Contains("batch_size"), Error);
}

TEST_CASE("the PreciseBN fit callback recalibrates on the training inputs after its epochs") {
  const nlohmann::json config = nlohmann::json::parse(R"({
    "model": {"input_dim": 10, "layers": [
      {"class_name": "Dense", "config": {"units": 6}},
      {"class_name": "BatchNormalization", "config": {"momentum": 0.9}},
      {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}]},
    "compile": {"optimizer": "adam", "loss": "binary_crossentropy"},
    "data": {"train": {"generator": "imbalanced", "seed": 3}},
    "fit": {"batch_size": 64, "epochs": 2, "verbose": 0, "callbacks": [
      {"class_name": "PreciseBN", "config": {"every_epochs": 2, "batch_size": 100}}]}})");
  TrainConfig cfg = train_config_from_json(config, "", "test");
  cfg.model.fit(cfg.train, cfg.fit_options());
  Sequential& model = cfg.model;
  const PopulationMoments m = layer_input_moments(model, cfg.train.x, 1);
  const auto& bn = dynamic_cast<const BatchNormalization&>(model.layer(1));
  for (std::size_t j = 0; j < 6; ++j) {
    CHECK(bn.moving_mean[j] == doctest::Approx(m.mean[j]).epsilon(1e-5));
    CHECK(bn.moving_variance[j] == doctest::Approx(m.variance[j]).epsilon(1e-5));
  }

  nlohmann::json bad = config;
  bad["fit"]["callbacks"][0]["config"]["every_epochs"] = 0;
  CHECK_THROWS_WITH_AS(train_config_from_json(bad, "", "test"),
                       doctest::Contains("fit.callbacks[0].config.every_epochs"), Error);
}

TEST_CASE("with use_ema, fit ends on the averaged weights and PreciseBN recalibrates for them") {
  // Keras' finalize_variable_values swaps the optimizer's moving averages of the weights in when
  // fit ends; moving statistics gathered with the last weights then belong to another network.
  nlohmann::json config = nlohmann::json::parse(R"({
    "model": {"input_dim": 10, "layers": [
      {"class_name": "Dense", "config": {"units": 6}},
      {"class_name": "BatchNormalization", "config": {"momentum": 0.9}},
      {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}]},
    "compile": {"optimizer": {"class_name": "Adam", "config":
                  {"learning_rate": 0.05, "use_ema": true, "ema_momentum": 0.9}},
                "loss": "binary_crossentropy"},
    "data": {"train": {"generator": "imbalanced", "seed": 3}},
    "fit": {"batch_size": 64, "epochs": 2, "verbose": 0}})");
  auto worst_gap = [](TrainConfig& cfg) {
    const PopulationMoments m = layer_input_moments(cfg.model, cfg.train.x, 1);
    const auto& bn = dynamic_cast<const BatchNormalization&>(cfg.model.layer(1));
    double worst = 0.0;
    for (std::size_t j = 0; j < 6; ++j)
      worst =
          std::max(worst, std::abs(bn.moving_mean[j] - m.mean[j]) / (1.0 + std::abs(m.mean[j])));
    return worst;
  };
  TrainConfig plain = train_config_from_json(config, "", "test");
  plain.model.fit(plain.train, plain.fit_options());
  // The weights are the averages the optimizer kept.
  std::size_t averages = 0;
  const auto& vars = plain.model.trainable_variables();
  for (const Variable& slot : plain.model.optimizer().slot_variables()) {
    if (!slot.name.starts_with("average/")) continue;
    const Tensor& w = *vars[averages++].value;
    for (std::size_t i = 0; i < w.size(); ++i) CHECK(w.data()[i] == slot.value->data()[i]);
  }
  CHECK(averages == vars.size());
  CHECK(worst_gap(plain) > 1e-2);  // the pitfall: stale moving statistics

  config["fit"]["callbacks"] = {{{"class_name", "PreciseBN"}, {"config", {{"every_epochs", 1}}}}};
  TrainConfig precise = train_config_from_json(config, "", "test");
  precise.model.fit(precise.train, precise.fit_options());
  CHECK(worst_gap(precise) < 1e-5);
}
