// Central-difference gradient checks for layers and losses (header-only, used by the tests).
//
// A layer maps x (N x D_in) and its parameters theta to y (N x D_out). Its backward pass is
// checked through the scalar
//   L(x, theta) = sum_ij w_ij y_ij          w: a fixed random N x D_out matrix, so dL/dy = w,
// and a loss directly through its batch value. For every element v of x and of each parameter:
//   numeric = (L(v + h) - L(v - h)) / ((v + h) - (v - h))
// where v +- h are the float values actually stored, so the step in the denominator is exact.
//
// Why the tolerance |numeric - analytic| <= atol + rtol |analytic| (2e-3, 2e-2 by default):
// the layers compute in float32 and L is accumulated in double, so L carries a rounding error of
// about sqrt(N D) * 6e-8 ~ 1e-6, which the division by 2h = 2e-2 turns into ~5e-5; the
// truncation error of the central difference is h^2 |L'''| / 6 ~ 2e-5 for O(1) curvature
// (inputs are kept away from ReLU kinks and loss clips, where L''' is unbounded); the analytic
// side has float rounding of ~1e-6 relative. The bound sits ~40x above those and far below what
// a dropped, transposed or mis-scaled term costs (O(|analytic|)), which the tests also show.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/layer.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace normlab::gradient_check {

struct Tolerance {
  double atol = 2e-3;
  double rtol = 2e-2;
};

// The outcome of comparing one or more gradients element by element.
struct Result {
  std::size_t checked = 0, failed = 0;
  double worst = 0.0;  // max of |numeric - analytic| / (atol + rtol |analytic|); <= 1 passes
  std::string worst_text;

  bool ok() const { return checked > 0 && failed == 0; }
  void merge(const Result& other) {
    checked += other.checked;
    failed += other.failed;
    if (other.worst > worst || worst_text.empty()) {
      worst = other.worst;
      worst_text = other.worst_text;
    }
  }
  std::string summary() const {
    std::ostringstream s;
    s << failed << " of " << checked << " elements outside the tolerance; worst (ratio " << worst
      << "): " << worst_text;
    return s.str();
  }
};

// Uniform values in [low, high).
inline Tensor random_tensor(std::size_t rows, std::size_t cols, Rng& rng, double low, double high) {
  Tensor t(rows, cols);
  for (float& v : t) v = static_cast<float>(rng.uniform(low, high));
  return t;
}

// sum_ij w_ij y_ij in double.
inline double weighted_sum(const Tensor& w, const Tensor& y) {
  double sum = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) sum += static_cast<double>(w[i]) * y[i];
  return sum;
}

// Compares `analytic` with central differences of `objective` in every element of `value`
// (perturbed in place and restored); `name` labels the tensor in the report.
inline Result check_tensor(const std::string& name, Tensor& value, const Tensor& analytic,
                           const std::function<double()>& objective, double h, Tolerance tol = {}) {
  Result r;
  if (analytic.rows() != value.rows() || analytic.cols() != value.cols()) {
    r.checked = r.failed = 1;
    r.worst_text = name + ": analytic gradient has shape " + analytic.shape_string() +
                   ", the value " + value.shape_string();
    return r;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const float v = value[i];
    const float plus = static_cast<float>(v + h), minus = static_cast<float>(v - h);
    value[i] = plus;
    const double l_plus = objective();
    value[i] = minus;
    const double l_minus = objective();
    value[i] = v;
    const double numeric = (l_plus - l_minus) / (static_cast<double>(plus) - minus);
    const double ana = analytic[i];
    const double ratio = std::fabs(numeric - ana) / (tol.atol + tol.rtol * std::fabs(ana));
    ++r.checked;
    if (!(ratio <= 1.0)) ++r.failed;  // a NaN fails too
    if (!(ratio <= r.worst) || r.worst_text.empty()) {
      r.worst = ratio;
      std::ostringstream s;
      s << name << "[" << i / value.cols() << "," << i % value.cols() << "]: numeric " << numeric
        << ", analytic " << ana;
      r.worst_text = s.str();
    }
  }
  objective();  // leave the caches as they were for the unperturbed value
  return r;
}

// L = sum(w ⊙ layer.forward(x, Train)); x is captured by reference, so perturbing it counts.
inline std::function<double()> layer_objective(Layer& layer, const Tensor& x, const Tensor& w) {
  return [&layer, &x, &w] { return weighted_sum(w, layer.forward(x, {Mode::Train})); };
}

// The hand-written gradients of L: dx and every parameter gradient, by variable name.
struct LayerGradients {
  Tensor dx;
  std::vector<std::pair<std::string, Tensor>> params;
};

inline LayerGradients layer_gradients(Layer& layer, const Tensor& x, const Tensor& w) {
  layer.zero_grad();
  layer.forward(x, {Mode::Train});
  LayerGradients g;
  g.dx = layer.backward(w);
  for (const auto& v : layer.variables())
    if (v.trainable()) g.params.emplace_back(v.name, *v.grad);
  return g;
}

// Checks dx and every parameter gradient of `layer` (built, parameters set) at input x.
inline Result check_layer(Layer& layer, Tensor& x, const Tensor& w, double h = 1e-2,
                          Tolerance tol = {}) {
  const LayerGradients g = layer_gradients(layer, x, w);
  const auto objective = layer_objective(layer, x, w);
  Result r = check_tensor("dx", x, g.dx, objective, h, tol);
  for (auto& v : layer.variables()) {
    if (!v.trainable()) continue;
    for (const auto& [name, grad] : g.params)
      if (name == v.name) r.merge(check_tensor("d" + name, *v.value, grad, objective, h, tol));
  }
  return r;
}

}  // namespace normlab::gradient_check
