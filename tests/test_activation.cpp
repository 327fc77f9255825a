// Activation layer and the elementwise activations of layers/activation_functions.h: hand values
// on tiny inputs, central-difference gradient checks of every activation, stability, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "gradient_check.h"
#include "layers/activation_layer.h"

using namespace normlab;
namespace gc = normlab::gradient_check;

namespace {

const char* const kActivations[] = {"linear", "relu", "sigmoid", "tanh", "softmax"};

// An Activation layer built for inputs of width d.
Activation built(const std::string& name, std::size_t d) {
  Activation layer(name);
  Rng rng(0);
  layer.build(d, rng);
  return layer;
}

// f(x) in inference mode, copied out of the layer.
Tensor apply(const std::string& name, const Tensor& x) {
  Activation layer = built(name, x.cols());
  return layer.forward(x, {Mode::Infer});
}

}  // namespace

TEST_CASE("Activation values on hand-checkable inputs") {
  // x = [-1, 0, ln 2, ln 3]
  const float ln2 = std::log(2.0f), ln3 = std::log(3.0f);
  const Tensor x{{-1.0f, 0.0f, ln2, ln3}};
  SUBCASE("linear: y = x") {
    CHECK(apply("linear", x) == x);
  }
  SUBCASE("relu: max(x, 0)") {
    const Tensor y = apply("relu", x);
    CHECK(y(0, 0) == 0.0f);
    CHECK(y(0, 1) == 0.0f);
    CHECK(y(0, 3) == ln3);
  }
  SUBCASE("sigmoid: 1/(1+e^-x); sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4") {
    const Tensor y = apply("sigmoid", x);
    CHECK(y(0, 1) == 0.5f);
    CHECK(y(0, 2) == doctest::Approx(2.0 / 3.0).epsilon(1e-6));
    CHECK(y(0, 3) == doctest::Approx(0.75).epsilon(1e-6));
    CHECK(y(0, 0) == doctest::Approx(1.0 / (1.0 + std::exp(1.0))).epsilon(1e-6));
  }
  SUBCASE("tanh: tanh(ln 2) = (2 - 1/2)/(2 + 1/2) = 0.6, tanh(ln 3) = 0.8") {
    const Tensor y = apply("tanh", x);
    CHECK(y(0, 1) == 0.0f);
    CHECK(y(0, 2) == doctest::Approx(0.6).epsilon(1e-6));
    CHECK(y(0, 3) == doctest::Approx(0.8).epsilon(1e-6));
  }
  SUBCASE("softmax per row: [0, ln 3] -> [1/4, 3/4]; [1, 1] -> [1/2, 1/2]") {
    const Tensor y = apply("softmax", Tensor{{0.0f, ln3}, {1.0f, 1.0f}});
    CHECK(y(0, 0) == doctest::Approx(0.25).epsilon(1e-6));
    CHECK(y(0, 1) == doctest::Approx(0.75).epsilon(1e-6));
    CHECK(y(1, 0) == 0.5f);
    CHECK(y(1, 1) == 0.5f);
  }
}

TEST_CASE("Activation derivatives on hand-checkable inputs (dy = 1)") {
  const float ln3 = std::log(3.0f);
  const Tensor x{{-1.0f, ln3}}, ones{{1.0f, 1.0f}};
  auto dx_of = [&](const char* name) {
    Activation layer = built(name, 2);
    layer.forward(x, {Mode::Train});
    return Tensor(layer.backward(ones));
  };
  CHECK(dx_of("linear") == ones);
  CHECK(dx_of("relu") == Tensor{{0.0f, 1.0f}});  // [x > 0]
  // sigmoid'(ln 3) = y (1 - y) = 3/4 * 1/4 = 3/16
  CHECK(dx_of("sigmoid")(0, 1) == doctest::Approx(3.0 / 16.0).epsilon(1e-6));
  // tanh'(ln 3) = 1 - 0.8^2 = 0.36
  CHECK(dx_of("tanh")(0, 1) == doctest::Approx(0.36).epsilon(1e-6));
  // softmax: dx_j = y_j (dy_j - sum_k dy_k y_k) = 0 for a constant dy (the outputs sum to 1)
  const Tensor s = dx_of("softmax");
  CHECK(std::fabs(s(0, 0)) < 1e-6);  // float rounding of y_j (1 - sum_k y_k)
  CHECK(std::fabs(s(0, 1)) < 1e-6);
  // softmax with dy = [1, 0] at y = [1/4, 3/4]: dx = [1/4 (1 - 1/4), 3/4 (0 - 1/4)]
  Activation softmax = built("softmax", 2);
  softmax.forward(Tensor{{0.0f, ln3}}, {Mode::Train});
  const Tensor& d = softmax.backward(Tensor{{1.0f, 0.0f}});
  CHECK(d(0, 0) == doctest::Approx(3.0 / 16.0).epsilon(1e-6));
  CHECK(d(0, 1) == doctest::Approx(-3.0 / 16.0).epsilon(1e-6));
}

TEST_CASE("Activation gradients match central differences for every activation") {
  for (const char* name : kActivations) {
    CAPTURE(name);
    Rng rng(101);
    const std::size_t n = 5, d = 4;
    Activation layer = built(name, d);
    Tensor x = gc::random_tensor(n, d, rng, -2.0, 2.0);
    // Keep |x| >= 0.1 so that x +- h (h = 0.01) never crosses relu's kink at 0.
    for (float& v : x)
      if (std::fabs(v) < 0.1f) v = v < 0.0f ? v - 0.1f : v + 0.1f;
    const Tensor w = gc::random_tensor(n, d, rng, -1.0, 1.0);
    const gc::Result r = gc::check_layer(layer, x, w);
    CHECK_MESSAGE(r.ok(), r.summary());
    CHECK(r.checked == n * d);
  }
}

TEST_CASE("Activations stay finite for large inputs") {
  const Tensor x{{-200.0f, -50.0f, 50.0f, 200.0f}};
  for (const char* name : {"sigmoid", "tanh", "softmax"}) {
    CAPTURE(name);
    const Tensor y = apply(name, x);
    for (float v : y) CHECK(std::isfinite(v));
  }
  const Tensor s = apply("sigmoid", x);
  CHECK(s(0, 0) == doctest::Approx(0.0).epsilon(1e-30));
  CHECK(s(0, 3) == 1.0f);
  // softmax subtracts the row max: e^(200 - 200) = 1 dominates
  const Tensor p = apply("softmax", x);
  CHECK(p(0, 3) == 1.0f);
}

// A NaN must reach the loss, where TerminateOnNaN sees it (as in TensorFlow and PyTorch): an
// activation that turned it into a number would hide a diverged layer below it.
TEST_CASE("Activations pass NaN on") {
  const Tensor x{{std::nanf(""), 1.0f, 0.5f, -1.0f}};  // softmax: the whole row becomes NaN
  for (const char* name : kActivations) {
    CAPTURE(name);
    CHECK(std::isnan(apply(name, x)(0, 0)));
  }
}

TEST_CASE("Activation errors: unknown name, wrong width, backward before a training forward") {
  CHECK_THROWS_WITH_AS(Activation("gelu"),
                       doctest::Contains("unknown activation 'gelu': expected one of linear, "
                                         "relu, sigmoid, tanh, softmax"),
                       Error);
  Activation layer = built("relu", 3);
  layer.set_name("activation");
  CHECK_THROWS_WITH_AS(layer.backward(Tensor(2, 3)),
                       doctest::Contains("layer 'activation' (Activation): backward() called "
                                         "without a training-mode forward()"),
                       Error);
  CHECK_THROWS_WITH_AS(layer.forward(Tensor(2, 4), {Mode::Train}),
                       doctest::Contains("expected input of shape (N, 3) with N >= 1, got (2, 4)"),
                       Error);
  layer.forward(Tensor(2, 3), {Mode::Infer});  // inference leaves no caches for backward
  CHECK_THROWS_WITH_AS(layer.backward(Tensor(2, 3)),
                       doctest::Contains("without a training-mode forward"), Error);
  layer.forward(Tensor(2, 3), {Mode::Train});
  CHECK_THROWS_WITH_AS(layer.backward(Tensor(3, 3)),
                       doctest::Contains("expected output gradient of shape (2, 3), got (3, 3)"),
                       Error);
  CHECK_THROWS_WITH_AS(Activation("relu").forward(Tensor(1, 1), {Mode::Infer}),
                       doctest::Contains("used before it was built"), Error);
}

TEST_CASE("Activation has no weights and keeps its width") {
  Activation layer = built("tanh", 6);
  CHECK(layer.variables().empty());
  CHECK(layer.output_dim() == 6);
  CHECK(layer.count_params(true) == 0);
  CHECK(layer.get_config()["activation"] == "tanh");
}
