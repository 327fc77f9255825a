// SGD in Keras' form, plain, with momentum and Nesterov, two steps each. The values are checked
// by hand below and agree with torch.optim.SGD (PyTorch 1.13.1), whose velocity b = mu b + g is
// Keras' v = -lr b for a constant learning rate.
#include <doctest/doctest.h>

#include "core/error.h"
#include "optim/sgd.h"

using namespace normlab;

namespace {

// w = [1, -0.5] with gradients [1, -0.5] then [2, 0.25], lr 0.1; the weights after each step.
std::vector<Tensor> run(const SgdConfig& config) {
  SGD sgd(config);
  Tensor w{{1.0f, -0.5f}}, g(1, 2);
  const std::vector<Variable> vars{{"w", &w, &g}};
  std::vector<Tensor> after;
  for (const Tensor& grad : {Tensor{{1.0f, -0.5f}}, Tensor{{2.0f, 0.25f}}}) {
    g = grad;
    sgd.apply(vars);
    after.push_back(w);
  }
  return after;
}

void check_weights(const Tensor& w, double w0, double w1) {
  CHECK(w(0, 0) == doctest::Approx(w0).epsilon(1e-6));
  CHECK(w(0, 1) == doctest::Approx(w1).epsilon(1e-6));
}

}  // namespace

TEST_CASE("SGD without momentum: w <- w - lr g") {
  const auto w = run({.learning_rate = 0.1f});
  check_weights(w[0], 1 - 0.1, -0.5 + 0.05);      // 0.9, -0.45
  check_weights(w[1], 0.9 - 0.2, -0.45 - 0.025);  // 0.7, -0.475
  CHECK(SGD({.learning_rate = 0.1f}).slot_variables().empty());
}

TEST_CASE("SGD with momentum 0.9: v <- 0.9 v - lr g, w <- w + v") {
  const auto w = run({.learning_rate = 0.1f, .momentum = 0.9f});
  // v1 = [-0.1, 0.05], w1 = [0.9, -0.45]
  check_weights(w[0], 0.9, -0.45);
  // v2 = 0.9 v1 - 0.1 g2 = [-0.09 - 0.2, 0.045 - 0.025] = [-0.29, 0.02]; w2 = [0.61, -0.43]
  check_weights(w[1], 0.61, -0.43);
}

TEST_CASE("SGD with Nesterov momentum: w <- w + 0.9 v - lr g") {
  const auto w = run({.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true});
  // v1 = [-0.1, 0.05];  w1 = w0 + 0.9 v1 - 0.1 g1 = [1 - 0.09 - 0.1, -0.5 + 0.045 + 0.05]
  check_weights(w[0], 0.81, -0.405);
  // v2 = [-0.29, 0.02];  w2 = w1 + 0.9 v2 - 0.1 g2 = [0.81 - 0.261 - 0.2, -0.405 + 0.018 - 0.025]
  check_weights(w[1], 0.349, -0.412);
}

TEST_CASE("SGD settings: defaults, ranges and config") {
  const SGD sgd;
  CHECK(sgd.config().learning_rate == 0.01f);  // Keras' default
  CHECK(sgd.config().momentum == 0.0f);
  CHECK_THROWS_WITH_AS(SGD({.learning_rate = -1.0f}),
                       doctest::Contains("learning_rate must be > 0"), Error);
  CHECK_THROWS_WITH_AS(SGD({.momentum = 1.0f}), doctest::Contains("momentum must be in [0, 1)"),
                       Error);
  CHECK_THROWS_WITH_AS(SGD({.momentum = -0.1f}), doctest::Contains("momentum must be in [0, 1)"),
                       Error);
  const auto config = SGD({.momentum = 0.5f, .nesterov = true}).get_config();
  CHECK(config["momentum"] == 0.5);
  CHECK(config["nesterov"] == true);
}
