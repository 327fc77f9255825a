// BatchNormalization's renorm correction and schedule (layers/bn_renorm.h): rmax = 1, dmax = 0
// is plain BN to the bit; tf.keras' algorithm (tests/torch_golden/, PyTorch float64); gradient
// checks with clipping active and inactive (tests/gradient_check.h, h = 1e-2); the schedule's
// bounds at given steps.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "layers/batch_normalization.h"

#include "batchnorm_options_support.h"

using namespace normlab;
using namespace normlab::bn_options;

// ---- renorm ----------------------------------------------------------------------------------

TEST_CASE("BatchNormalization options: renorm with rmax=1 and dmax=0 is plain BN to the bit") {
  auto plain = make_bn({{"momentum", 0.9}}, 4);
  auto renorm = make_bn({{"momentum", 0.9},
                         {"renorm", true},
                         {"renorm_clipping", {{"rmax", 1}, {"dmax", 0}}},
                         {"renorm_momentum", 0.5}},
                        4);
  for (auto* bn : {plain.get(), renorm.get()}) {
    bn->gamma = Tensor::row_vector({1.5f, -0.5f, 2.0f, 1.0f});
    bn->beta = Tensor::row_vector({0.25f, 0.0f, -1.0f, 3.0f});
  }
  for (int step = 0; step < 3; ++step) {
    const Tensor x = ramp(6, 4, 2.0f + step, 1.0f);
    const Tensor u = ramp(6, 4, 0.5f, -0.25f);
    const Grads a = train_step(*plain, snapshot(*plain), x, u);
    const Grads b = train_step(*renorm, snapshot(*renorm), x, u);
    CHECK(a.y == b.y);
    CHECK(a.dx == b.dx);
    CHECK(a.dgamma == b.dgamma);
    CHECK(a.dbeta == b.dbeta);
    CHECK(plain->moving_mean == renorm->moving_mean);
    // The inference variance goes through moving_stddev (an average of standard deviations,
    // as tf.keras and Keras 3 keep it), checked in the next case against their algorithm.
  }
}

TEST_CASE("BatchNormalization options: renorm matches tf.keras' algorithm (PyTorch float64)") {
  const json g = read_json(kGolden / "renorm_reference.json");
  auto bn = make_bn({{"momentum", g["momentum"]},
                     {"epsilon", g["epsilon"]},
                     {"renorm", true},
                     {"renorm_clipping", g["renorm_clipping"]},
                     {"renorm_momentum", g["renorm_momentum"]}},
                    3);
  CHECK(bn->variables().size() == 7);
  set_variable(*bn, "gamma", g["gamma"]);
  set_variable(*bn, "beta", g["beta"]);
  for (const auto& [name, values] : g["initial_state"].items()) set_variable(*bn, name, values);
  for (std::size_t t = 0; t < g["steps"].size(); ++t) {
    const json& s = g["steps"][t];
    CAPTURE(t);
    const Grads r =
        train_step(*bn, snapshot(*bn), tensor_of(s["x"]), tensor_of(s["upstream_grad"]));
    check_close(r.y, s["y"], 1e-5, 1e-5, "y");
    check_close(bn->renorm_r(), s["r"], 1e-5, 1e-6, "r");
    check_close(bn->renorm_d(), s["d"], 1e-5, 1e-6, "d");
    check_close(r.dx, s["dx"], 1e-4, 1e-5, "dx");
    check_close(r.dgamma, s["dgamma"], 1e-5, 1e-5, "dgamma");
    check_close(r.dbeta, s["dbeta"], 1e-5, 1e-5, "dbeta");
    for (const auto& [name, values] : s["state_after"].items())
      check_close(variable(*bn, name), values, 1e-5, 1e-6, name);
  }
}

TEST_CASE("BatchNormalization options: renorm gradient check with clipping active") {
  // renorm_stddev 0.1 and renorm_mean 5 against a batch of std ~1 and mean ~0: r = rmax, d = -dmax
  auto bn = make_bn({{"renorm", true}, {"renorm_clipping", {{"rmax", 3}, {"dmax", 2}}}}, 3);
  bn->gamma = Tensor::row_vector({1.5f, -0.5f, 2.0f});
  bn->renorm_stddev.fill(0.1f);
  bn->renorm_mean.fill(5.0f);
  const Tensor x = ramp(5, 3, 1.0f, 0.5f), u = ramp(5, 3, 0.75f, -0.3f);
  check_gradients(*bn, x, u);
  train_step(*bn, snapshot(*bn), x, u);
  for (std::size_t j = 0; j < 3; ++j) {
    CHECK(bn->renorm_r()[j] == 3.0f);
    CHECK(bn->renorm_d()[j] == -2.0f);
  }
}

TEST_CASE("BatchNormalization options: renorm gradient check with clipping inactive") {
  // r and d are constants of the backward pass (stop_gradient): the gradient is that of
  // y = gamma (r xhat + d) + beta with r, d frozen, i.e. of plain BN with gamma' = gamma r and
  // beta' = gamma d + beta, which central differences of a plain layer give.
  auto bn = make_bn({{"renorm", true}, {"renorm_clipping", {{"rmax", 10}, {"dmax", 10}}}}, 3);
  bn->gamma = Tensor::row_vector({1.5f, -0.5f, 2.0f});
  bn->beta = Tensor::row_vector({0.5f, 0.25f, -1.0f});
  bn->renorm_stddev = Tensor::row_vector({0.8f, 1.3f, 2.0f});
  bn->renorm_mean = Tensor::row_vector({0.3f, -0.2f, 1.0f});
  const Tensor x = ramp(5, 3, 1.0f, 0.5f), u = ramp(5, 3, 0.75f, -0.3f);
  const State s = snapshot(*bn);
  const Grads g = train_step(*bn, s, x, u);
  const Tensor r = bn->renorm_r(), d = bn->renorm_d();
  for (std::size_t j = 0; j < 3; ++j) {
    CHECK(r[j] > 0.1f);
    CHECK(r[j] < 10.0f);
    CHECK(r[j] != doctest::Approx(1.0f));
    CHECK(std::abs(d[j]) < 10.0f);
    CHECK(d[j] != doctest::Approx(0.0f));
  }
  auto frozen = make_bn(json::object(), 3);
  for (std::size_t j = 0; j < 3; ++j) {
    frozen->gamma[j] = bn->gamma[j] * r[j];
    frozen->beta[j] = bn->gamma[j] * d[j] + bn->beta[j];
  }
  const State fs0 = snapshot(*frozen);
  Tensor xp = x, frozen_gamma = frozen->gamma, frozen_beta = frozen->beta;
  check_gradient("dx (r, d held)", xp, g.dx, [&] {
    return objective(*frozen, fs0, xp, u, nullptr, frozen_gamma, frozen_beta);
  });
  // gamma and beta do not enter r and d: differentiate the renorm layer itself
  Tensor gamma = Tensor::row_vector(s[0]), beta = Tensor::row_vector(s[1]);
  const auto f = [&] { return objective(*bn, s, x, u, nullptr, gamma, beta); };
  check_gradient("dgamma", gamma, g.dgamma, f);
  check_gradient("dbeta", beta, g.dbeta, f);
}

TEST_CASE("BatchNormalization options: renorm schedule bounds follow the paper's recipe") {
  const RenormSchedule paper;  // 5000 warm-up, rmax 3 at 40k, dmax 5 at 25k
  const auto at = [&](std::int64_t t) { return renorm_bounds(paper, t); };
  CHECK(at(0).rmax == 1.0f);
  CHECK(at(0).rmin == 1.0f);
  CHECK(at(0).dmax == 0.0f);
  CHECK(at(5000).rmax == 1.0f);
  CHECK(at(5000).dmax == 0.0f);
  // t = 22500: rmax = 1 + 2 (17500 / 35000) = 2, dmax = 5 (17500 / 20000) = 4.375
  CHECK(at(22500).rmax == doctest::Approx(2.0));
  CHECK(at(22500).rmin == doctest::Approx(0.5));
  CHECK(at(22500).dmax == doctest::Approx(4.375));
  CHECK(at(25000).dmax == doctest::Approx(5.0));
  CHECK(at(40000).rmax == doctest::Approx(3.0));
  CHECK(at(1000000).rmax == doctest::Approx(3.0));
  CHECK(at(1000000).dmax == doctest::Approx(5.0));

  // In a layer, step t of training uses the bounds at t; the counter is a saved variable.
  auto bn = make_bn(
      {{"renorm", true},
       {"renorm_schedule",
        {{"warmup_steps", 2}, {"rmax_steps", 6}, {"dmax_steps", 4}, {"rmax", 3}, {"dmax", 1}}}},
      2);
  bn->renorm_stddev.fill(0.01f);  // forces r to its upper bound and d to +-dmax
  bn->renorm_mean.fill(-100.0f);
  const Tensor x = ramp(4, 2, 1.0f, 0.0f);
  const float expected_rmax[] = {1, 1, 1, 1.5f, 2, 2.5f, 3, 3};
  const float expected_dmax[] = {0, 0, 0, 0.5f, 1, 1, 1, 1};
  for (int t = 0; t < 8; ++t) {
    CAPTURE(t);
    CHECK(variable(*bn, "renorm_step")[0] == static_cast<float>(t));
    bn->renorm_stddev.fill(0.01f);
    bn->renorm_mean.fill(-100.0f);
    bn->forward(x, {Mode::Train});
    for (std::size_t j = 0; j < 2; ++j) {
      CHECK(bn->renorm_r()[j] == doctest::Approx(expected_rmax[t]));
      CHECK(bn->renorm_d()[j] == doctest::Approx(expected_dmax[t]));
    }
  }
}
