// Adam: Keras 3's update, its epsilon placement against PyTorch's, and checks of its settings.
// Golden values come from torch.optim.Adam (PyTorch 1.13.1, float64): epsilon_placement
// "pytorch" is torch's own update; "keras" is torch's with eps replaced by eps / sqrt(1 - b2^t),
// which is the Keras 3 update (shared/reference/README.md).
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "optim/adam.h"

using namespace normlab;

namespace {

// Two weights w = [1, -0.5] with the gradients [2, -0.25] then [1, 0.5].
std::vector<Tensor> run(const AdamConfig& config) {
  Adam adam(config);
  Tensor w{{1.0f, -0.5f}}, g(1, 2);
  const std::vector<Variable> vars{{"w", &w, &g}};
  std::vector<Tensor> after;
  for (const Tensor& grad : {Tensor{{2.0f, -0.25f}}, Tensor{{1.0f, 0.5f}}}) {
    g = grad;
    adam.apply(vars);
    after.push_back(w);
  }
  return after;
}

}  // namespace

TEST_CASE("Adam's first step by the Keras 3 formula, by hand") {
  // g = 2, defaults: m = 0.1 g = 0.2, v = 0.001 g^2 = 0.004,
  // alpha = 1e-3 sqrt(1 - 0.999) / (1 - 0.9) = 1e-3 sqrt(1e-3) / 0.1
  // w = 1 - alpha m / (sqrt(v) + 1e-7)
  const double alpha = 1e-3 * std::sqrt(1e-3) / 0.1;
  const double expected = 1.0 - alpha * 0.2 / (std::sqrt(0.004) + 1e-7);
  const auto w = run({});
  CHECK(w[0](0, 0) == doctest::Approx(expected).epsilon(1e-7));
  // The first step is ~lr * sign(g) whatever |g| is
  CHECK(w[0](0, 1) == doctest::Approx(-0.5 + 1e-3).epsilon(1e-6));
}

TEST_CASE("Adam matches torch.optim.Adam (Keras epsilon placement) over two steps") {
  const auto w = run({});
  CHECK(w[0](0, 0) == doctest::Approx(0.9990000015811363).epsilon(1e-7));
  CHECK(w[0](0, 1) == doctest::Approx(-0.49900001264895066).epsilon(1e-7));
  CHECK(w[1](0, 0) == doctest::Approx(0.9980678232611518).epsilon(1e-7));
  CHECK(w[1](0, 1) == doctest::Approx(-0.4993661141047968).epsilon(1e-7));
}

TEST_CASE("A large epsilon (1.0) separates Keras' placement from PyTorch's") {
  // Keras: w = 1 - sqrt(1e-3) * 0.2 / (sqrt(0.004) + 1) = 0.99405  (lr 0.1, g = 2)
  // PyTorch: w = 1 - 0.1 * m_hat / (sqrt(v_hat) + 1) = 1 - 0.1 * 2 / 3 = 0.93333
  const auto keras = run({.learning_rate = 0.1f, .epsilon = 1.0f});
  CHECK(keras[0](0, 0) ==
        doctest::Approx(1.0 - std::sqrt(1e-3) * 0.2 / (std::sqrt(0.004) + 1)).epsilon(1e-6));
  CHECK(keras[0](0, 0) == doctest::Approx(0.9940516512848024).epsilon(1e-6));
  CHECK(keras[0](0, 1) == doctest::Approx(-0.49921563156193055).epsilon(1e-6));
  CHECK(keras[1](0, 0) == doctest::Approx(0.987897755057633).epsilon(1e-6));
  CHECK(keras[1](0, 1) == doctest::Approx(-0.4998515127826471).epsilon(1e-6));

  const auto torch =
      run({.learning_rate = 0.1f, .epsilon = 1.0f, .epsilon_placement = EpsilonPlacement::PyTorch});
  CHECK(torch[0](0, 0) == doctest::Approx(1.0 - 0.1 * 2.0 / 3.0).epsilon(1e-6));
  CHECK(torch[0](0, 1) == doctest::Approx(-0.48).epsilon(1e-6));
  CHECK(torch[1](0, 0) == doctest::Approx(0.8762337424537976).epsilon(1e-6));
  CHECK(torch[1](0, 1) == doctest::Approx(-0.49037284278763216).epsilon(1e-6));
}

TEST_CASE("Adam keeps m and v per variable and counts iterations") {
  Adam adam;
  Tensor a{{1.0f}}, ga{{2.0f}}, b{{1.0f, 1.0f}}, gb{{0.0f, -4.0f}};
  const std::vector<Variable> vars{{"a", &a, &ga}, {"b", &b, &gb}};
  CHECK(adam.iterations() == 0);
  adam.apply(vars);
  CHECK(adam.iterations() == 1);
  const auto slots = adam.slot_variables();
  REQUIRE(slots.size() == 4);
  CHECK(slots[0].name == "m/0");
  CHECK(slots[1].name == "v/0");
  CHECK(slots[3].name == "v/1");
  CHECK((*slots[0].value)(0, 0) == doctest::Approx(0.2));    // 0.1 * 2
  CHECK((*slots[3].value)(0, 1) == doctest::Approx(0.016));  // 0.001 * 16
  CHECK(b(0, 0) == 1.0f);                                    // zero gradient: no move
  CHECK_THROWS_WITH_AS(adam.apply({vars[0]}),
                       doctest::Contains("Adam: called with 1 variables, but its state was made "
                                         "for 2"),
                       Error);
  Tensor c(1, 3), gc(1, 3);
  CHECK_THROWS_WITH_AS(adam.apply({vars[0], {"c", &c, &gc}}),
                       doctest::Contains("variable 1 'c' has shape (1, 3), but its state has "
                                         "shape (1, 2)"),
                       Error);
  adam.set_iterations(10);  // a resumed run continues its bias correction
  CHECK(adam.iterations() == 10);
}

TEST_CASE("Adam rejects settings outside their ranges") {
  CHECK_THROWS_WITH_AS(Adam({.learning_rate = 0.0f}),
                       doctest::Contains("learning_rate must be > 0"), Error);
  CHECK_THROWS_WITH_AS(Adam({.beta_1 = 1.0f}), doctest::Contains("beta_1 must be in [0, 1)"),
                       Error);
  CHECK_THROWS_WITH_AS(Adam({.beta_2 = -0.5f}), doctest::Contains("beta_2 must be in [0, 1)"),
                       Error);
  CHECK_THROWS_WITH_AS(Adam({.epsilon = 0.0f}), doctest::Contains("epsilon must be > 0"), Error);
  CHECK_THROWS_WITH_AS(parse_epsilon_placement("tf"),
                       doctest::Contains("expected \"keras\" or \"pytorch\""), Error);
  const auto config = Adam({.learning_rate = 0.01f}).get_config();
  CHECK(config["learning_rate"] == doctest::Approx(0.01));
  CHECK(config["epsilon_placement"] == "keras");
}
