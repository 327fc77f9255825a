// BatchNormalization's batch moments (layers/bn_batch_moments.h): ghost batches against tf.keras'
// virtual_batch_size and weighted moments against tf.nn.weighted_moments (tests/torch_golden/,
// PyTorch float64), their gradient checks (tests/gradient_check.h, h = 1e-2), a remainder
// merged or refused, and fit's sample and class weights reaching the statistics.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "model/sequential.h"
#include "optim/sgd.h"

#include "batchnorm_options_support.h"

using namespace normlab;
using namespace normlab::bn_options;

// ---- ghost batches ---------------------------------------------------------------------------

TEST_CASE(
    "BatchNormalization options: virtual_batch_size equal to the batch is plain BN to the bit") {
  auto plain = make_bn({{"momentum", 0.8}, {"moving_variance_update", "unbiased"}}, 3);
  auto ghost = make_bn(
      {{"momentum", 0.8}, {"moving_variance_update", "unbiased"}, {"virtual_batch_size", 6}}, 3);
  for (int step = 0; step < 3; ++step) {
    const Tensor x = ramp(6, 3, 1.0f + step, 2.0f), u = ramp(6, 3, 0.5f, 0.1f);
    const Grads a = train_step(*plain, snapshot(*plain), x, u);
    const Grads b = train_step(*ghost, snapshot(*ghost), x, u);
    CHECK(a.y == b.y);
    CHECK(a.dx == b.dx);
    CHECK(a.dgamma == b.dgamma);
    CHECK(a.dbeta == b.dbeta);
    CHECK(plain->batch_mean() == ghost->batch_mean());
    CHECK(plain->batch_variance() == ghost->batch_variance());
    CHECK(plain->moving_mean == ghost->moving_mean);
    CHECK(plain->moving_variance == ghost->moving_variance);
  }
}

TEST_CASE("BatchNormalization options: ghost batches match tf.keras' virtual_batch_size") {
  const json g = read_json(kGolden / "ghost_batch_reference.json");
  auto bn = make_bn({{"momentum", g["momentum"]},
                     {"epsilon", g["epsilon"]},
                     {"virtual_batch_size", g["virtual_batch_size"]}},
                    3);
  set_variable(*bn, "gamma", g["gamma"]);
  set_variable(*bn, "beta", g["beta"]);
  const Grads r = train_step(*bn, snapshot(*bn), tensor_of(g["x"]), tensor_of(g["upstream_grad"]));
  check_close(r.y, g["y"], 1e-5, 1e-5, "y");
  check_close(r.dx, g["dx"], 1e-4, 1e-5, "dx");
  check_close(r.dgamma, g["dgamma"], 1e-5, 1e-5, "dgamma");
  check_close(r.dbeta, g["dbeta"], 1e-5, 1e-5, "dbeta");
  check_close(bn->moving_mean, g["moving_mean"], 1e-5, 1e-6, "moving_mean");
  check_close(bn->moving_variance, g["moving_variance"], 1e-5, 1e-6, "moving_variance");
}

TEST_CASE("BatchNormalization options: ghost batch gradient check") {
  auto bn = make_bn({{"virtual_batch_size", 3}}, 2);
  bn->gamma = Tensor::row_vector({1.5f, -0.75f});
  check_gradients(*bn, ramp(9, 2, 1.0f, 0.5f), ramp(9, 2, 0.6f, 0.2f));
}

TEST_CASE("BatchNormalization options: a remainder is an error unless merged") {
  auto strict = make_bn({{"virtual_batch_size", 2}}, 1);
  const Tensor x{{1}, {2}, {4}, {8}, {16}};
  CHECK_THROWS_WITH_AS(strict->forward(x, {Mode::Train}),
                       doctest::Contains("virtual_batch_size 2 does not divide the batch of 5"),
                       Error);
  // merge: G = floor(5/2) = 2 ghost batches, rows {0, 2, 4} and {1, 3}
  auto merged = make_bn(
      {{"virtual_batch_size", 2}, {"virtual_batch_size_remainder", "merge"}, {"momentum", 0.5}}, 1);
  const Tensor& y = merged->forward(x, {Mode::Train});
  const float m0 = 7.0f, v0 = (36.0f + 9.0f + 81.0f) / 3.0f;  // values 1, 4, 16
  const float m1 = 5.0f, v1 = 9.0f;                           // values 2, 8
  CHECK(y(0, 0) == doctest::Approx((1.0f - m0) / std::sqrt(v0 + 1e-3f)));
  CHECK(y(4, 0) == doctest::Approx((16.0f - m0) / std::sqrt(v0 + 1e-3f)));
  CHECK(y(3, 0) == doctest::Approx((8.0f - m1) / std::sqrt(v1 + 1e-3f)));
  CHECK(merged->moving_mean[0] == doctest::Approx(0.5f * (m0 + m1) / 2.0f));
  CHECK(merged->moving_variance[0] == doctest::Approx(0.5f + 0.5f * (v0 + v1) / 2.0f));
  // a batch smaller than k is one ghost batch
  const Tensor small{{1}, {3}};
  auto merged4 = make_bn({{"virtual_batch_size", 4}, {"virtual_batch_size_remainder", "merge"}}, 1);
  CHECK(merged4->forward(small, {Mode::Train})(0, 0) == doctest::Approx(-1.0f / std::sqrt(1.001f)));
}

// ---- weighted statistics ---------------------------------------------------------------------

TEST_CASE("BatchNormalization options: weighted moments match tf.nn.weighted_moments") {
  const json g = read_json(kGolden / "weighted_moments_reference.json");
  auto bn = make_bn(
      {{"momentum", g["momentum"]}, {"epsilon", g["epsilon"]}, {"weighted_statistics", true}}, 3);
  set_variable(*bn, "gamma", g["gamma"]);
  set_variable(*bn, "beta", g["beta"]);
  const auto w = g["sample_weight"].get<std::vector<float>>();
  const Grads r =
      train_step(*bn, snapshot(*bn), tensor_of(g["x"]), tensor_of(g["upstream_grad"]), &w);
  check_close(bn->batch_mean(), g["batch_mean"], 1e-5, 1e-6, "batch_mean");
  check_close(bn->batch_variance(), g["batch_variance"], 1e-5, 1e-6, "batch_variance");
  check_close(r.y, g["y"], 1e-5, 1e-5, "y");
  check_close(r.dx, g["dx"], 1e-4, 1e-5, "dx");
  check_close(r.dgamma, g["dgamma"], 1e-5, 1e-5, "dgamma");
  check_close(r.dbeta, g["dbeta"], 1e-5, 1e-5, "dbeta");
  check_close(bn->moving_mean, g["moving_mean"], 1e-5, 1e-6, "moving_mean");
  check_close(bn->moving_variance, g["moving_variance"], 1e-5, 1e-6, "moving_variance");
}

TEST_CASE("BatchNormalization options: weighted moments gradient check and unit weights") {
  auto bn = make_bn({{"weighted_statistics", true}}, 2);
  bn->gamma = Tensor::row_vector({1.25f, -2.0f});
  const Tensor x = ramp(6, 2, 1.0f, 0.5f), u = ramp(6, 2, 0.7f, -0.2f);
  const std::vector<float> w = {1.0f, 4.0f, 0.5f, 2.0f, 1.0f, 3.0f};
  check_gradients(*bn, x, u, &w);
  // unit weights are the unweighted layer, bit for bit
  auto plain = make_bn(json::object(), 2);
  plain->gamma = bn->gamma;
  const std::vector<float> ones(6, 1.0f);
  const Grads a = train_step(*plain, snapshot(*plain), x, u);
  const Grads b = train_step(*bn, snapshot(*bn), x, u, &ones);
  CHECK(a.y == b.y);
  CHECK(a.dx == b.dx);
  CHECK(plain->moving_variance == bn->moving_variance);
}

TEST_CASE("BatchNormalization options: fit passes sample and class weights to the statistics") {
  // Example 3's imbalanced data in small: 12 rows of class 0, 3 of class 1 shifted by +5.
  Tensor x(15, 2), y(15, 1);
  for (std::size_t i = 0; i < 15; ++i) {
    const bool rare = i >= 12;
    x(i, 0) = std::sin(1.7f * i) + (rare ? 5.0f : 0.0f);
    x(i, 1) = std::cos(0.9f * i) + (rare ? 5.0f : 0.0f);
    y(i, 0) = rare ? 1.0f : 0.0f;
  }
  Sequential model(2, 3);
  model.add(make_bn({{"weighted_statistics", true}}, 2));
  model.add(Dense(1, "sigmoid"));
  model.compile(SGD(), "binary_crossentropy");
  model.fit(x, y,
            {.batch_size = 15,
             .epochs = 1,
             .shuffle = false,
             .verbose = 0,
             .class_weight = {{0, 1.0f}, {1, 4.0f}}});
  auto& bn = dynamic_cast<BatchNormalization&>(model.layer(0));
  for (std::size_t j = 0; j < 2; ++j) {
    double sw = 0, swx = 0;
    for (std::size_t i = 0; i < 15; ++i) {
      const double w = i >= 12 ? 4.0 : 1.0;
      sw += w;
      swx += w * x(i, j);
    }
    CHECK(bn.batch_mean()[j] == doctest::Approx(swx / sw).epsilon(1e-5));
  }
  // without weighted_statistics the same fit normalizes with the plain mean
  Sequential unweighted(2, 3);
  unweighted.add(make_bn(json::object(), 2));
  unweighted.add(Dense(1, "sigmoid"));
  unweighted.compile(SGD(), "binary_crossentropy");
  unweighted.fit(x, y,
                 {.batch_size = 15,
                  .epochs = 1,
                  .shuffle = false,
                  .verbose = 0,
                  .class_weight = {{0, 1.0f}, {1, 4.0f}}});
  double mean0 = 0;
  for (std::size_t i = 0; i < 15; ++i) mean0 += x(i, 0) / 15.0;
  CHECK(dynamic_cast<BatchNormalization&>(unweighted.layer(0)).batch_mean()[0] ==
        doctest::Approx(mean0).epsilon(1e-5));
}
