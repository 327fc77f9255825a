// Dense: y = f(x W + b). Hand values, central-difference checks of dx, dW and db for every
// activation and without bias, a demonstration that the checker rejects wrong gradients, errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "gradient_check.h"
#include "layers/dense.h"

using namespace normlab;
namespace gc = normlab::gradient_check;

namespace {

Dense built(const DenseConfig& config, std::size_t input_dim, std::uint64_t seed = 0) {
  Dense layer(config);
  Rng rng(seed);
  layer.build(input_dim, rng);
  return layer;
}

// The Dense of the hand-checked cases: 2 inputs, 3 units,
//   W = [[1, 0, -1], [2, 1, 0]],  b = [1, 0, 0].
Dense hand_dense(const std::string& activation) {
  Dense d = built({.units = 3, .activation = activation}, 2);
  d.kernel = Tensor{{1, 0, -1}, {2, 1, 0}};
  d.bias = Tensor{{1, 0, 0}};
  return d;
}

// Smallest |z| over z = x W + b, computed in double.
double min_abs_pre_activation(const Tensor& x, const Dense& d, bool use_bias) {
  double smallest = INFINITY;
  for (std::size_t i = 0; i < x.rows(); ++i)
    for (std::size_t k = 0; k < d.kernel.cols(); ++k) {
      double z = use_bias ? d.bias[k] : 0.0;
      for (std::size_t j = 0; j < x.cols(); ++j) z += static_cast<double>(x(i, j)) * d.kernel(j, k);
      smallest = std::min(smallest, std::fabs(z));
    }
  return smallest;
}

}  // namespace

TEST_CASE("Dense forward and backward on hand-checkable integers (relu)") {
  Dense d = hand_dense("relu");
  // z = [1 2] W + b = [1+4+1, 0+2+0, -1+0+0] = [6, 2, -1];  y = relu(z) = [6, 2, 0]
  const Tensor x{{1, 2}};
  CHECK(d.forward(x, {Mode::Train}) == Tensor{{6, 2, 0}});
  // dy = [1 1 1]: dz = dy * [z > 0] = [1 1 0]
  //   dW = x^T dz = [[1 1 0], [2 2 0]],  db = [1 1 0],  dx = dz W^T = [1+0+0, 2+1+0] = [1, 3]
  d.zero_grad();
  CHECK(d.backward(Tensor{{1, 1, 1}}) == Tensor{{1, 3}});
  CHECK(d.dkernel == Tensor{{1, 1, 0}, {2, 2, 0}});
  CHECK(d.dbias == Tensor{{1, 1, 0}});
}

TEST_CASE("Dense on a batch of two rows (linear): sums over rows, accumulates until zero_grad") {
  Dense d = hand_dense("linear");
  const Tensor x{{1, 2}, {0, -1}};
  // row 2: z = [0 - 2 + 1, 0 - 1 + 0, 0] = [-1, -1, 0]
  CHECK(d.forward(x, {Mode::Train}) == Tensor{{6, 2, -1}, {-1, -1, 0}});
  // dy = [[1 0 2], [0 1 1]]
  //   dW = x^T dy = [[1, 0, 2], [2 - 0, 0 - 1, 4 - 1]] = [[1 0 2], [2 -1 3]]
  //   db = [1 1 3]
  //   dx = dy W^T = [[1 + 0 - 2, 2 + 0 + 0], [0 + 0 - 1, 0 + 1 + 0]] = [[-1 2], [-1 1]]
  const Tensor dy{{1, 0, 2}, {0, 1, 1}};
  d.zero_grad();
  CHECK(d.backward(dy) == Tensor{{-1, 2}, {-1, 1}});
  CHECK(d.dkernel == Tensor{{1, 0, 2}, {2, -1, 3}});
  CHECK(d.dbias == Tensor{{1, 1, 3}});
  // A second backward adds to the parameter gradients and overwrites dx.
  CHECK(d.backward(dy) == Tensor{{-1, 2}, {-1, 1}});
  CHECK(d.dkernel == Tensor{{2, 0, 4}, {4, -2, 6}});
  CHECK(d.dbias == Tensor{{2, 2, 6}});
  d.zero_grad();
  CHECK(d.dkernel == Tensor(2, 3));
  CHECK(d.dbias == Tensor(1, 3));
}

TEST_CASE("Dense without bias and with sigmoid: hand values") {
  Dense d = built({.units = 1, .activation = "sigmoid", .use_bias = false}, 2);
  CHECK(d.variables().size() == 1);
  d.kernel = Tensor{{1}, {-1}};
  // z = 3 - 3 = 0, y = 1/2;  dz = dy y (1 - y) = 1/4
  const Tensor x{{3, 3}};
  const Tensor& y = d.forward(x, {Mode::Train});
  CHECK(y(0, 0) == 0.5f);
  d.zero_grad();
  CHECK(d.backward(Tensor{{1}}) == Tensor{{0.25f, -0.25f}});
  CHECK(d.dkernel == Tensor{{0.75f}, {0.75f}});
}

TEST_CASE("Dense gradients match central differences for every activation, with and without bias") {
  const std::size_t n = 5, in = 4, out = 3;
  for (const char* activation : {"linear", "relu", "sigmoid", "tanh", "softmax"})
    for (bool use_bias : {true, false}) {
      CAPTURE(activation);
      CAPTURE(use_bias);
      Dense d = built({.units = out, .activation = activation, .use_bias = use_bias}, in);
      Tensor x;
      // Redraw until every pre-activation is at least 0.05 from relu's kink: a step of h = 0.01
      // in x, W or b moves z by at most 0.02 here (|x| <= 2, |W| <= 1).
      for (std::uint64_t seed = 1;; ++seed) {
        Rng rng(seed);
        x = gc::random_tensor(n, in, rng, -2.0, 2.0);
        d.kernel = gc::random_tensor(in, out, rng, -1.0, 1.0);
        if (use_bias) d.bias = gc::random_tensor(1, out, rng, -0.5, 0.5);
        if (min_abs_pre_activation(x, d, use_bias) > 0.05) break;
      }
      Rng rng(99);
      const Tensor w = gc::random_tensor(n, out, rng, -1.0, 1.0);
      const gc::Result r = gc::check_layer(d, x, w);
      CHECK_MESSAGE(r.ok(), r.summary());
      CHECK(r.checked == n * in + in * out + (use_bias ? out : 0));
    }
}

TEST_CASE("The gradient checker rejects a transposed or mis-scaled Dense kernel gradient") {
  // Square kernel so that the transpose has the right shape.
  const std::size_t n = 6, units = 3;
  Dense d = built({.units = units, .activation = "tanh"}, units);
  Rng rng(5);
  Tensor x = gc::random_tensor(n, units, rng, -1.5, 1.5);
  d.kernel = gc::random_tensor(units, units, rng, -1.0, 1.0);
  d.bias = gc::random_tensor(1, units, rng, -0.5, 0.5);
  const Tensor w = gc::random_tensor(n, units, rng, -1.0, 1.0);
  const gc::LayerGradients g = gc::layer_gradients(d, x, w);
  const Tensor& dkernel = g.params.at(0).second;
  const auto objective = gc::layer_objective(d, x, w);

  CHECK(gc::check_tensor("dW", d.kernel, dkernel, objective, 1e-2).ok());
  Tensor transposed(units, units), halved = dkernel;
  for (std::size_t i = 0; i < units; ++i)
    for (std::size_t j = 0; j < units; ++j) transposed(i, j) = dkernel(j, i);
  for (float& v : halved) v *= 0.5f;  // a mean over 2 rows where the sum is due
  CHECK_FALSE(gc::check_tensor("dW transposed", d.kernel, transposed, objective, 1e-2).ok());
  CHECK_FALSE(gc::check_tensor("dW halved", d.kernel, halved, objective, 1e-2).ok());
  // dx with its columns rotated, an indexing slip
  Tensor dx_wrong(n, units);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < units; ++j) dx_wrong(i, j) = g.dx(i, (j + 1) % units);
  CHECK_FALSE(gc::check_tensor("dx", x, dx_wrong, objective, 1e-2).ok());
}

TEST_CASE("Dense inference and training forwards agree; Keras weight order and config") {
  Dense d = built({.units = 4, .activation = "relu"}, 3, 7);
  Rng rng(1);
  const Tensor x = gc::random_tensor(2, 3, rng, -1.0, 1.0);
  const Tensor train = d.forward(x, {Mode::Train});
  CHECK(d.forward(x, {Mode::Infer}) == train);
  const auto vars = d.variables();
  REQUIRE(vars.size() == 2);
  CHECK(vars[0].name == "kernel");
  CHECK(vars[0].value->shape_string() == "(3, 4)");  // D_in x D_out, Keras' layout
  CHECK_FALSE(vars[0].vector);
  CHECK(vars[1].name == "bias");
  CHECK(vars[1].vector);
  CHECK(d.count_params(true) == 3 * 4 + 4);
  d.set_trainable(false);
  CHECK(d.count_params(true) == 0);
  CHECK(d.count_params(false) == 16);
  const auto config = d.get_config();
  CHECK(config["units"] == 4);
  CHECK(config["activation"] == "relu");
  CHECK(config["use_bias"] == true);
  CHECK(config["trainable"] == false);
}

TEST_CASE("Dense initial weights: glorot_uniform kernel within sqrt(6/(in+out)), zero bias") {
  Dense d = built({.units = 20}, 30, 3);
  const double limit = std::sqrt(6.0 / 50.0);
  double max_abs = 0.0;
  for (float v : d.kernel) max_abs = std::max(max_abs, std::fabs(static_cast<double>(v)));
  CHECK(max_abs <= limit);
  CHECK(max_abs > 0.9 * limit);  // 600 draws reach close to the bound
  CHECK(d.bias == Tensor(1, 20));
  // The same seed draws the same kernel.
  CHECK(built({.units = 20}, 30, 3).kernel == d.kernel);
  CHECK_FALSE(built({.units = 20}, 30, 4).kernel == d.kernel);
}

TEST_CASE("Dense errors: units 0, unknown activation or initializer, shapes, early backward") {
  CHECK_THROWS_WITH_AS(Dense(0), doctest::Contains("units must be a positive integer, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(Dense(3, "swish"), doctest::Contains("unknown activation 'swish'"), Error);
  CHECK_THROWS_WITH_AS(Dense(DenseConfig{.units = 3, .kernel_initializer = "orthogonal"}),
                       doctest::Contains("unknown initializer 'orthogonal': expected one of "
                                         "glorot_uniform, he_uniform, torch_uniform, zeros, ones"),
                       Error);
  Dense d = built({.units = 2, .name = "dense_7"}, 3);
  CHECK_THROWS_WITH_AS(d.backward(Tensor(1, 2)),
                       doctest::Contains("layer 'dense_7' (Dense): backward() called without a "
                                         "training-mode forward()"),
                       Error);
  CHECK_THROWS_WITH_AS(d.forward(Tensor(4, 5), {Mode::Train}),
                       doctest::Contains("layer 'dense_7' (Dense): expected input of shape (N, 3) "
                                         "with N >= 1, got (4, 5)"),
                       Error);
  CHECK_THROWS_WITH_AS(d.forward(Tensor(0, 3), {Mode::Train}), doctest::Contains("got (0, 3)"),
                       Error);
  d.forward(Tensor(4, 3), {Mode::Train});
  CHECK_THROWS_WITH_AS(d.backward(Tensor(4, 3)),
                       doctest::Contains("expected output gradient of shape (4, 2), got (4, 3)"),
                       Error);
  Rng rng(0);
  CHECK_THROWS_WITH_AS(Dense(2).build(0, rng), doctest::Contains("input width must be positive"),
                       Error);
}
