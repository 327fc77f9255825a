// What the BatchNormalization option tests share: the PyTorch golden files of
// tests/torch_golden/, layers built from a JSON config, their state saved and restored, one
// training step and its gradient check (tests/gradient_check.h).
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "gradient_check.h"
#include "layers/batch_normalization.h"
#include "layers/registry.h"

namespace normlab::bn_options {

using json = nlohmann::json;
namespace fs = std::filesystem;

inline const fs::path kGolden = fs::path(NORMLAB_SOURCE_DIR) / "tests" / "torch_golden";

inline json read_json(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return json::parse(in);
}

inline Tensor tensor_of(const json& value) {
  if (!value.empty() && value[0].is_array())
    return Tensor::from_rows(value.get<std::vector<std::vector<float>>>());
  return Tensor::row_vector(value.get<std::vector<float>>());
}

inline std::vector<double> flat(const json& value) {
  std::vector<double> out;
  if (value.is_number()) return {value.get<double>()};
  for (const auto& v : value) {
    const auto inner = flat(v);
    out.insert(out.end(), inner.begin(), inner.end());
  }
  return out;
}

// "[k] <a_label><a><b_label><b>", the first mismatch of a comparison.
inline std::string mismatch(std::size_t k, const char* a_label, double a, const char* b_label,
                            double b) {
  std::string s = "[";
  s += std::to_string(k);
  s += "] ";
  s += a_label;
  s += std::to_string(a);
  s += b_label;
  s += std::to_string(b);
  return s;
}

// Element by element |actual - expected| <= atol + rtol |expected|.
inline void check_close(const Tensor& actual, const json& expected, double rtol, double atol,
                        const std::string& what) {
  const std::vector<double> e = flat(expected);
  REQUIRE_MESSAGE(actual.size() == e.size(),
                  what << ": " << actual.size() << " values, expected " << e.size());
  int bad = 0;
  std::string first;
  for (std::size_t k = 0; k < e.size(); ++k)
    if (!(std::abs(actual[k] - e[k]) <= atol + rtol * std::abs(e[k])) && bad++ == 0)
      first = mismatch(k, "", actual[k], " vs ", e[k]);
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " values off, first " << first);
}

inline std::unique_ptr<BatchNormalization> make_bn(const json& config, std::size_t features) {
  auto layer = layer_from_config("BatchNormalization", config, "bn");
  std::unique_ptr<BatchNormalization> bn(dynamic_cast<BatchNormalization*>(layer.release()));
  REQUIRE(bn != nullptr);
  Rng rng(1);
  bn->build(features, rng);
  return bn;
}

using State = std::vector<std::vector<float>>;
inline State snapshot(Layer& layer) {
  State s;
  for (const auto& v : layer.variables()) s.push_back(v.value->to_vector());
  return s;
}
inline void restore(Layer& layer, const State& s) {
  const auto vars = layer.variables();
  REQUIRE(vars.size() == s.size());
  for (std::size_t k = 0; k < vars.size(); ++k)
    std::copy(s[k].begin(), s[k].end(), vars[k].value->begin());
}
// Sets a named variable of the layer from a JSON array.
inline void set_variable(Layer& layer, const std::string& name, const json& values) {
  for (const auto& v : layer.variables())
    if (v.name == name) {
      const Tensor t = tensor_of(values);
      REQUIRE(t.size() == v.value->size());
      std::copy(t.begin(), t.end(), v.value->begin());
      return;
    }
  FAIL("no variable " << name);
}
inline const Tensor& variable(Layer& layer, const std::string& name) {
  for (const auto& v : layer.variables())
    if (v.name == name) return *v.value;
  FAIL("no variable " << name);
  throw Error("unreachable");
}

// A training context with the row weights w, or unweighted when w is null.
inline StepContext training_with(const std::vector<float>* w) {
  return {.mode = Mode::Train,
          .sample_weight = w ? std::span<const float>(*w) : std::span<const float>()};
}

// One training forward and backward of L = sum(u * y) from state s.
struct Grads {
  Tensor y, dx, dgamma, dbeta;
};
inline Grads train_step(BatchNormalization& bn, const State& s, const Tensor& x, const Tensor& u,
                        const std::vector<float>* w = nullptr) {
  restore(bn, s);
  Grads g;
  g.y = bn.forward(x, training_with(w));
  bn.zero_grad();
  g.dx = bn.backward(u);
  g.dgamma = bn.dgamma;
  g.dbeta = bn.dbeta;
  return g;
}
// Central differences of `objective` in every element of `value` against `analytic`
// (tests/gradient_check.h, h = 1e-2).
inline void check_gradient(const std::string& name, Tensor& value, const Tensor& analytic,
                           const std::function<double()>& objective) {
  const gradient_check::Result r =
      gradient_check::check_tensor(name, value, analytic, objective, 1e-2);
  CHECK_MESSAGE(r.ok(), r.summary());
}

// L = sum(u * y) of a training forward from state s with gamma and beta replaced.
inline double objective(BatchNormalization& bn, const State& s, const Tensor& x, const Tensor& u,
                        const std::vector<float>* w, const Tensor& gamma, const Tensor& beta) {
  restore(bn, s);
  bn.gamma = gamma;
  bn.beta = beta;
  return gradient_check::weighted_sum(u, bn.forward(x, training_with(w)));
}

// Checks dx, dgamma and dbeta of the layer's training step from its current state.
inline void check_gradients(BatchNormalization& bn, const Tensor& x, const Tensor& u,
                            const std::vector<float>* w = nullptr) {
  const State s = snapshot(bn);
  const Grads g = train_step(bn, s, x, u, w);
  Tensor xp = x, gamma = bn.gamma, beta = bn.beta;
  const auto f = [&] { return objective(bn, s, xp, u, w, gamma, beta); };
  check_gradient("dx", xp, g.dx, f);
  check_gradient("dgamma", gamma, g.dgamma, f);
  check_gradient("dbeta", beta, g.dbeta, f);
  restore(bn, s);
}

inline Tensor ramp(std::size_t rows, std::size_t cols, float a, float b) {
  // Well spread values, no two equal: x_ij = a sin(1.3 i + 0.7 j + 0.2) + b j
  Tensor t(rows, cols);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j)
      t(i, j) = a * std::sin(1.3f * static_cast<float>(i) + 0.7f * static_cast<float>(j) + 0.2f) +
                b * static_cast<float>(j);
  return t;
}

}  // namespace normlab::bn_options
