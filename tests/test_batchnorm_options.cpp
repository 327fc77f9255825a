// BatchNormalization's options (layers/batch_normalization.h, docs/batchnorm-options.md):
// renorm and its schedule, ghost batches, the cumulative and debiased averages, the variance
// estimators, frozen statistics, weighted statistics, the single-sample policies, presets and
// the pytorch_momentum key. Golden values come from tests/torch_golden/ (PyTorch, float64);
// gradient checks are central differences in float32 (h = 1e-2, |error| <= 2e-3 + 2e-2 |grad|:
// rounding of the float32 objective over 2h is ~1e-4, truncation O(h^2) ~1e-4).
#include <doctest/doctest.h>

#include <unistd.h>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/model_file.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "layers/presets.h"
#include "layers/registry.h"
#include "model/sequential.h"
#include "optim/adam.h"
#include "optim/registry.h"
#include "optim/sgd.h"

#include "error_of.h"

using namespace normlab;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kGolden = fs::path(NORMLAB_SOURCE_DIR) / "tests" / "torch_golden";

json read_json(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return json::parse(in);
}

Tensor tensor_of(const json& value) {
  if (!value.empty() && value[0].is_array())
    return Tensor::from_rows(value.get<std::vector<std::vector<float>>>());
  return Tensor::row_vector(value.get<std::vector<float>>());
}

std::vector<double> flat(const json& value) {
  std::vector<double> out;
  if (value.is_number()) return {value.get<double>()};
  for (const auto& v : value) {
    const auto inner = flat(v);
    out.insert(out.end(), inner.begin(), inner.end());
  }
  return out;
}

// "[k] <a_label><a><b_label><b>", the first mismatch of a comparison.
std::string mismatch(std::size_t k, const char* a_label, double a, const char* b_label, double b) {
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
void check_close(const Tensor& actual, const json& expected, double rtol, double atol,
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

std::unique_ptr<BatchNormalization> make_bn(const json& config, std::size_t features) {
  auto layer = layer_from_config("BatchNormalization", config, "bn");
  std::unique_ptr<BatchNormalization> bn(dynamic_cast<BatchNormalization*>(layer.release()));
  REQUIRE(bn != nullptr);
  Rng rng(1);
  bn->build(features, rng);
  return bn;
}

using State = std::vector<std::vector<float>>;
State snapshot(Layer& layer) {
  State s;
  for (const auto& v : layer.variables()) s.push_back(v.value->to_vector());
  return s;
}
void restore(Layer& layer, const State& s) {
  const auto vars = layer.variables();
  REQUIRE(vars.size() == s.size());
  for (std::size_t k = 0; k < vars.size(); ++k)
    std::copy(s[k].begin(), s[k].end(), vars[k].value->begin());
}
// Sets a named variable of the layer from a JSON array.
void set_variable(Layer& layer, const std::string& name, const json& values) {
  for (const auto& v : layer.variables())
    if (v.name == name) {
      const Tensor t = tensor_of(values);
      REQUIRE(t.size() == v.value->size());
      std::copy(t.begin(), t.end(), v.value->begin());
      return;
    }
  FAIL("no variable " << name);
}
const Tensor& variable(Layer& layer, const std::string& name) {
  for (const auto& v : layer.variables())
    if (v.name == name) return *v.value;
  FAIL("no variable " << name);
  throw Error("unreachable");
}

// A training context with the row weights w, or unweighted when w is null.
StepContext training_with(const std::vector<float>* w) {
  return {.mode = Mode::Train,
          .sample_weight = w ? std::span<const float>(*w) : std::span<const float>()};
}

// One training forward and backward of L = sum(u * y) from state s.
struct Grads {
  Tensor y, dx, dgamma, dbeta;
};
Grads train_step(BatchNormalization& bn, const State& s, const Tensor& x, const Tensor& u,
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
double objective(BatchNormalization& bn, const State& s, const Tensor& x, const Tensor& u,
                 const std::vector<float>* w) {
  restore(bn, s);
  const Tensor& y = bn.forward(x, training_with(w));
  double f = 0.0;
  for (std::size_t k = 0; k < y.size(); ++k) f += static_cast<double>(u[k]) * y[k];
  return f;
}

// Central differences of f against `analytic`, perturbing element k through set(k, value).
void check_gradient(const std::function<double()>& f, const std::function<float&(std::size_t)>& at,
                    std::size_t count, const Tensor& analytic, const std::string& what) {
  REQUIRE(analytic.size() == count);
  int bad = 0;
  std::string first;
  for (std::size_t k = 0; k < count; ++k) {
    const float original = at(k);
    const float plus = original + 1e-2f, minus = original - 1e-2f;
    at(k) = plus;
    const double fp = f();
    at(k) = minus;
    const double fm = f();
    at(k) = original;
    const double numeric = (fp - fm) / (static_cast<double>(plus) - minus);
    if (!(std::abs(numeric - analytic[k]) <= 2e-3 + 2e-2 * std::abs(numeric)) && bad++ == 0)
      first = mismatch(k, "numeric ", numeric, ", analytic ", analytic[k]);
  }
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << count << " off, first " << first);
}

// Checks dx, dgamma and dbeta of the layer's training step from its current state.
void gradient_check(BatchNormalization& bn, const Tensor& x, const Tensor& u,
                    const std::vector<float>* w = nullptr) {
  State s = snapshot(bn);
  const Grads g = train_step(bn, s, x, u, w);
  Tensor xp = x;
  check_gradient([&] { return objective(bn, s, xp, u, w); },
                 [&](std::size_t k) -> float& { return xp[k]; }, x.size(), g.dx, "dx");
  // gamma and beta are the first two variables
  for (std::size_t v = 0; v < 2; ++v)
    check_gradient([&] { return objective(bn, s, x, u, w); },
                   [&](std::size_t k) -> float& { return s[v][k]; }, s[v].size(),
                   v == 0 ? g.dgamma : g.dbeta, v == 0 ? "dgamma" : "dbeta");
  restore(bn, s);
}

Tensor ramp(std::size_t rows, std::size_t cols, float a, float b) {
  // Well spread values, no two equal: x_ij = a sin(1.3 i + 0.7 j + 0.2) + b j
  Tensor t(rows, cols);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j)
      t(i, j) = a * std::sin(1.3f * static_cast<float>(i) + 0.7f * static_cast<float>(j) + 0.2f) +
                b * static_cast<float>(j);
  return t;
}

fs::path temp_dir(const std::string& name) {
  static int counter = 0;
  const fs::path dir = fs::temp_directory_path() / ("normlab_bn_" + std::to_string(::getpid()) +
                                                    "_" + std::to_string(counter++) + "_" + name);
  fs::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("BatchNormalization options: plain BN keeps Keras' four weights and config keys") {
  auto bn = make_bn(json::object(), 3);
  const auto vars = bn->variables();
  REQUIRE(vars.size() == 4);
  CHECK(vars[0].name == "gamma");
  CHECK(vars[3].name == "moving_variance");
  const json config = bn->get_config();
  std::vector<std::string> keys;
  for (auto it = config.begin(); it != config.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"axis", "beta_initializer", "center", "epsilon",
                                         "gamma_initializer", "momentum", "moving_mean_initializer",
                                         "moving_variance_initializer", "moving_variance_update",
                                         "name", "scale", "trainable"});
}

TEST_CASE("BatchNormalization options: config errors name the key and the rule") {
  const auto error_of = [](const json& config) {
    return testing::error_of([&] { make_bn(config, 2); });
  };
  CHECK(error_of({{"momentum", 0.9}, {"pytorch_momentum", 0.1}}).find("bn.pytorch_momentum") !=
        std::string::npos);
  CHECK(error_of({{"renorm_clipping", {{"rmax", 2}}}}).find("need renorm: true") !=
        std::string::npos);
  CHECK(error_of({{"renorm", true},
                  {"renorm_clipping", {{"rmax", 2}}},
                  {"renorm_schedule", json::object()}})
            .find("not both") != std::string::npos);
  CHECK(error_of({{"renorm", true}, {"renorm_clipping", {{"rmax", 0.5}}}})
            .find("bn.renorm_clipping.rmax") != std::string::npos);
  CHECK(error_of({{"renorm", true}, {"renorm_clipping", {{"r_max", 2}}}})
            .find("bn.renorm_clipping.r_max: unknown key") != std::string::npos);
  CHECK(error_of({{"momentum", nullptr}, {"moving_average_debias", true}})
            .find("moving_average_debias needs a momentum") != std::string::npos);
  CHECK(error_of({{"moving_variance_update", "bessel"}}).find("\"keras2\"") != std::string::npos);
  CHECK(error_of({{"virtual_batch_size", 0}}).find("bn.virtual_batch_size") != std::string::npos);
}

TEST_CASE("BatchNormalization options: pytorch_momentum converts to Keras' convention") {
  CHECK(make_bn({{"pytorch_momentum", 0.1}}, 2)->config().momentum == 0.9f);
  CHECK(make_bn({{"pytorch_momentum", 0.1}}, 2)->get_config()["momentum"] == 0.9f);
  CHECK(make_bn({{"pytorch_momentum", nullptr}}, 2)->config().cumulative_average);
  CHECK(make_bn({{"momentum", nullptr}}, 2)->get_config()["momentum"].is_null());
  CHECK_FALSE(make_bn(json::object(), 2)->config().cumulative_average);
}

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
  gradient_check(*bn, x, u);
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
  Tensor xp = x;
  check_gradient([&] { return objective(*frozen, fs0, xp, u, nullptr); },
                 [&](std::size_t k) -> float& { return xp[k]; }, x.size(), g.dx, "dx (r, d held)");
  // gamma and beta do not enter r and d: differentiate the renorm layer itself
  State sp = s;
  for (std::size_t v = 0; v < 2; ++v)
    check_gradient([&] { return objective(*bn, sp, x, u, nullptr); },
                   [&](std::size_t k) -> float& { return sp[v][k]; }, 3,
                   v == 0 ? g.dgamma : g.dbeta, v == 0 ? "dgamma" : "dbeta");
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
  gradient_check(*bn, ramp(9, 2, 1.0f, 0.5f), ramp(9, 2, 0.6f, 0.2f));
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

// ---- averages and estimators -----------------------------------------------------------------

TEST_CASE("BatchNormalization options: momentum=null matches PyTorch's cumulative average") {
  const json g = read_json(kGolden / "cumulative_average.json");
  // the same layer twice: normlab's keys, and the pytorch preset with pytorch_momentum null
  const json preset_model = apply_preset(
      "pytorch",
      {{"input_dim", 3},
       {"layers",
        {{{"class_name", "BatchNormalization"}, {"config", {{"pytorch_momentum", nullptr}}}}}}},
      "model");
  for (const json& config :
       {json{{"momentum", nullptr}, {"epsilon", 1e-5}, {"moving_variance_update", "unbiased"}},
        preset_model["layers"][0]["config"]}) {
    CAPTURE(config.dump());
    auto bn = make_bn(config, 3);
    set_variable(*bn, "gamma", g["gamma"]);
    set_variable(*bn, "beta", g["beta"]);
    for (const json& s : g["steps"]) {
      check_close(bn->forward(tensor_of(s["x"]), {Mode::Train}), s["y_training"], 1e-5, 1e-5, "y");
      check_close(bn->moving_mean, s["running_mean"], 1e-5, 1e-6, "running_mean");
      check_close(bn->moving_variance, s["running_var"], 1e-5, 1e-6, "running_var");
      CHECK(variable(*bn, "num_batches_tracked")[0] == s["num_batches_tracked"].get<float>());
    }
    check_close(bn->forward(tensor_of(g["eval_x"]), {Mode::Infer}), g["eval_y"], 1e-5, 1e-5,
                "inference");
  }
}

TEST_CASE("BatchNormalization options: the debiased average after t steps is the closed form") {
  // moving_t = sum_k (1 - m) m^(t-k) s_k / (1 - m^t), whatever the initial values
  const double m = 0.9;
  auto bn = make_bn({{"momentum", m}, {"moving_average_debias", true}}, 2);
  bn->moving_mean.fill(123.0f);  // drops out
  std::vector<std::vector<double>> means, vars;
  for (int t = 1; t <= 7; ++t) {
    const Tensor x = ramp(5, 2, 0.5f * t, static_cast<float>(t));
    bn->forward(x, {Mode::Train});
    means.push_back({bn->batch_mean()[0], bn->batch_mean()[1]});
    vars.push_back({bn->batch_variance()[0], bn->batch_variance()[1]});
    for (std::size_t j = 0; j < 2; ++j) {
      double num_mean = 0.0, num_var = 0.0;
      for (int k = 1; k <= t; ++k) {
        num_mean += (1 - m) * std::pow(m, t - k) * means[k - 1][j];
        num_var += (1 - m) * std::pow(m, t - k) * vars[k - 1][j];
      }
      const double weight = 1 - std::pow(m, t);
      CAPTURE(t);
      CHECK(bn->moving_mean[j] == doctest::Approx(num_mean / weight).epsilon(1e-5));
      CHECK(bn->moving_variance[j] == doctest::Approx(num_var / weight).epsilon(1e-5));
    }
    CHECK(variable(*bn, "num_batches_tracked")[0] == static_cast<float>(t));
  }
  // t = 1 takes the batch's statistics exactly
  auto fresh = make_bn({{"momentum", m}, {"moving_average_debias", true}}, 2);
  fresh->forward(ramp(5, 2, 1.0f, 1.0f), {Mode::Train});
  CHECK(fresh->moving_mean == fresh->batch_mean());
}

TEST_CASE("BatchNormalization options: the three variance estimators") {
  const Tensor x{{1}, {2}, {4}, {9}};  // mean 4, biased variance 9.5
  for (const auto& [name, factor] : std::vector<std::pair<std::string, double>>{
           {"biased", 1.0}, {"unbiased", 4.0 / 3.0}, {"keras2", 4.0 / (4.0 - 1.001)}}) {
    CAPTURE(name);
    auto bn = make_bn({{"moving_variance_update", name}, {"momentum", 0.5}}, 1);
    bn->forward(x, {Mode::Train});
    CHECK(bn->moving_variance[0] == doctest::Approx(0.5 + 0.5 * 9.5 * factor).epsilon(1e-6));
    CHECK(bn->get_config()["moving_variance_update"] == name);
  }
}

// ---- frozen statistics -----------------------------------------------------------------------

TEST_CASE("BatchNormalization options: trainable x training x freeze x moving statistics") {
  // The table of docs/batchnorm-options.md: what normalizes, what updates, what trains.
  const Tensor x = ramp(6, 2, 1.5f, 1.0f), u = ramp(6, 2, 0.5f, 0.25f);
  for (const bool trainable : {true, false})
    for (const bool train : {true, false})
      for (const bool freeze : {true, false})
        for (const bool use_moving : {true, false}) {
          CAPTURE(trainable);
          CAPTURE(train);
          CAPTURE(freeze);
          CAPTURE(use_moving);
          auto bn = make_bn({{"freeze_statistics", freeze},
                             {"use_moving_statistics_in_training", use_moving},
                             {"trainable", trainable}},
                            2);
          bn->moving_mean = Tensor::row_vector({0.5f, -1.0f});
          bn->moving_variance = Tensor::row_vector({2.0f, 0.5f});
          auto reference = make_bn(json::object(), 2);
          reference->moving_mean = bn->moving_mean;
          reference->moving_variance = bn->moving_variance;
          const Tensor with_moving = reference->forward(x, {Mode::Infer});
          const Tensor with_batch = reference->forward(x, {Mode::Train});
          const Tensor before_mean = bn->moving_mean;
          const Tensor& y = bn->forward(x, {train ? Mode::Train : Mode::Infer});
          const bool batch_statistics = train && trainable && !use_moving;
          const bool updates = train && trainable && !freeze;
          CHECK(y == (batch_statistics ? with_batch : with_moving));
          CHECK((bn->moving_mean == before_mean) == !updates);
          Sequential model(2);
          model.add(make_bn({{"freeze_statistics", freeze}, {"trainable", trainable}}, 2));
          CHECK(model.trainable_variables().size() == (trainable ? 2u : 0u));
          if (train) {
            bn->zero_grad();
            bn->backward(u);
            CHECK(bn->dbeta[0] != 0.0f);
          }
        }
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
  gradient_check(*bn, x, u, &w);
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

// ---- a batch of one --------------------------------------------------------------------------

TEST_CASE("BatchNormalization options: single_sample_policy") {
  const Tensor x{{3.0f, -1.0f}};
  auto keras = make_bn(json::object(), 2);
  keras->beta = Tensor::row_vector({0.5f, -0.5f});
  CHECK(keras->forward(x, {Mode::Train}) == Tensor{{0.5f, -0.5f}});

  auto torch = make_bn({{"single_sample_policy", "error"}}, 2);
  CHECK_THROWS_WITH_AS(torch->forward(x, {Mode::Train}),
                       doctest::Contains("a training batch of one row has no variance"), Error);
  CHECK(torch->forward(Tensor{{1, 2}, {3, 4}}, {Mode::Train}).rows() == 2);

  auto dlib = make_bn({{"single_sample_policy", "inference"}}, 2);
  dlib->moving_mean = Tensor::row_vector({1.0f, 1.0f});
  const Tensor inference = dlib->forward(x, {Mode::Infer});
  CHECK(dlib->forward(x, {Mode::Train}) == inference);
  CHECK(dlib->moving_mean == Tensor::row_vector({1.0f, 1.0f}));
  dlib->zero_grad();
  const Tensor& dx = dlib->backward(Tensor{{1.0f, 1.0f}});
  CHECK(dx(0, 0) == doctest::Approx(1.0f / std::sqrt(1.001f)));
}

// ---- presets ---------------------------------------------------------------------------------

TEST_CASE("BatchNormalization options: presets fill the framework's settings") {
  const json model = {
      {"input_dim", 4},
      {"preset", "pytorch"},
      {"layers",
       {{{"class_name", "Dense"}, {"config", {{"units", 3}}}},
        {{"class_name", "BatchNormalization"}, {"config", {{"epsilon", 0.01}}}},
        {{"class_name", "BatchNormalization"}, {"config", {{"pytorch_momentum", 0.2}}}}}}};
  const json out = apply_preset("pytorch", model, "model");
  CHECK_FALSE(out.contains("preset"));
  CHECK(out["layers"][0]["config"]["kernel_initializer"] == "torch_uniform");
  const json& bn = out["layers"][1]["config"];
  CHECK(bn["epsilon"] == 0.01);  // given: kept
  CHECK(bn["momentum"] == 0.9);
  CHECK(bn["moving_variance_update"] == "unbiased");
  CHECK(bn["single_sample_policy"] == "error");
  CHECK_FALSE(out["layers"][2]["config"].contains("momentum"));
  CHECK(make_bn(out["layers"][2]["config"], 2)->config().momentum == doctest::Approx(0.8f));

  json ambiguous = model;
  ambiguous["layers"][1]["config"]["momentum"] = 0.1;
  CHECK_THROWS_WITH_AS(apply_preset("pytorch", ambiguous, "model"),
                       doctest::Contains("model.layers[1].config.momentum: under preset "
                                         "\"pytorch\" give pytorch_momentum"),
                       Error);
  CHECK(apply_preset("keras3", ambiguous, "model")["layers"][1]["config"]["momentum"] == 0.1);
  CHECK_THROWS_WITH_AS(apply_preset("caffe", model, "model"),
                       doctest::Contains("model.preset: unknown preset 'caffe'"), Error);

  const json adam = apply_preset_to_optimizer("pytorch", "adam", "compile.optimizer");
  CHECK(adam["config"]["epsilon"] == 1e-8);
  CHECK(adam["config"]["epsilon_placement"] == "pytorch");
  CHECK(apply_preset_to_optimizer("tfjs", {{"class_name", "Adam"}, {"config", {{"epsilon", 0.1}}}},
                                  "o")["config"]["epsilon"] == 0.1);
  CHECK(apply_preset_to_optimizer("keras3", "sgd", "o") == "sgd");
  CHECK(preset_settings("tf_keras", "p").bn_momentum == 0.99);
}

TEST_CASE("BatchNormalization options: a short training under the pytorch preset matches PyTorch") {
  const json g = read_json(kGolden / "pytorch_preset_training.json");
  const json model_json = apply_preset(
      "pytorch",
      {{"input_dim", 4},
       {"preset", "pytorch"},
       {"layers",
        {{{"class_name", "Dense"}, {"config", {{"units", 8}, {"use_bias", false}}}},
         {{"class_name", "BatchNormalization"}, {"config", {{"pytorch_momentum", 0.01}}}},
         {{"class_name", "Activation"}, {"config", {{"activation", "relu"}}}},
         {{"class_name", "Dense"}, {"config", {{"units", 1}}}}}}},
      "model");
  Sequential model(4, 7);
  for (const json& layer : model_json["layers"])
    model.add(layer_from_config(layer["class_name"].get<std::string>(), layer["config"], "model"));
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    for (const auto& [name, values] : g["initial_weights"][i].items())
      set_variable(model.layer(i), name, values);
  model.compile(optimizer_from_json(
                    apply_preset_to_optimizer("pytorch",
                                              {{"class_name", "Adam"},
                                               {"config", {{"learning_rate", g["learning_rate"]}}}},
                                              "optimizer"),
                    "optimizer"),
                make_loss("mse"));
  const Tensor x = tensor_of(g["x"]), y = tensor_of(g["y"]);
  for (std::size_t t = 0; t < g["batch_schedule"].size(); ++t) {
    const std::size_t begin = g["batch_schedule"][t][0], end = g["batch_schedule"][t][1];
    Tensor xb(end - begin, 4), yb(end - begin, 1);
    std::copy(x.row(begin), x.row(end), xb.data());
    std::copy(y.row(begin), y.row(end), yb.data());
    CAPTURE(t);
    CHECK(model.train_on_batch(xb, yb) ==
          doctest::Approx(g["per_step_loss"][t].get<double>()).epsilon(1e-4));
  }
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    for (const auto& [name, values] : g["final_weights"][i].items())
      check_close(variable(model.layer(i), name), values, 1e-4, 1e-5,
                  "layer " + std::to_string(i) + " " + name);
  check_close(model.predict(tensor_of(g["eval_x"])), g["predictions"], 1e-4, 1e-5, "predictions");
}

// ---- save -> load ----------------------------------------------------------------------------

TEST_CASE("BatchNormalization options: every option survives save -> load") {
  const std::vector<json> options = {
      {{"momentum", nullptr}, {"moving_variance_update", "unbiased"}},
      {{"moving_average_debias", true}, {"momentum", 0.9}},
      {{"moving_variance_update", "keras2"}},
      {{"renorm", true},
       {"renorm_clipping", {{"rmax", 2}, {"rmin", 0.25}, {"dmax", 1}}},
       {"renorm_momentum", 0.9}},
      {{"renorm", true},
       {"renorm_schedule",
        {{"warmup_steps", 1}, {"rmax_steps", 5}, {"dmax_steps", 3}, {"rmax", 2}, {"dmax", 1}}}},
      {{"virtual_batch_size", 2}, {"virtual_batch_size_remainder", "merge"}},
      {{"freeze_statistics", true}, {"use_moving_statistics_in_training", true}},
      {{"weighted_statistics", true}},
      {{"single_sample_policy", "inference"}},
  };
  const Tensor x = ramp(10, 3, 1.0f, 0.5f), y = ramp(10, 1, 0.5f, 0.0f);
  std::vector<float> w(10);
  for (std::size_t i = 0; i < 10; ++i) w[i] = 0.5f + static_cast<float>(i % 3);
  for (const json& option : options) {
    CAPTURE(option.dump());
    Sequential model(3, 5);
    model.add(Dense(4));
    model.add(make_bn(option, 4));
    model.add(Dense(1));
    model.compile(Adam(), "mse");
    model.fit(x, y,
              {.batch_size = 5, .epochs = 2, .shuffle = false, .verbose = 0, .sample_weight = w});
    const fs::path dir = temp_dir("options");
    save_model(model, dir);
    Sequential loaded = load_model(dir);
    fs::remove_all(dir);
    REQUIRE(loaded.num_layers() == 3);
    CHECK(loaded.layer(1).get_config() == model.layer(1).get_config());
    const auto& a = model.layer_variables(1);
    const auto& b = loaded.layer_variables(1);
    REQUIRE(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      CAPTURE(a[k].name);
      CHECK(a[k].name == b[k].name);
      CHECK(*a[k].value == *b[k].value);
    }
    // the resumed layer continues exactly where the saved one stopped
    auto& bn_a = dynamic_cast<BatchNormalization&>(model.layer(1));
    auto& bn_b = dynamic_cast<BatchNormalization&>(loaded.layer(1));
    const Tensor h = ramp(5, 4, 1.0f, 0.25f);
    const StepContext first_rows{.mode = Mode::Train, .sample_weight = std::span(w).first(5)};
    CHECK(bn_a.forward(h, first_rows) == bn_b.forward(h, first_rows));
    CHECK(bn_a.moving_variance == bn_b.moving_variance);
  }
}

// ---- the goldens' generator ------------------------------------------------------------------

TEST_CASE("BatchNormalization options: tests/torch_golden/generate.py reproduces its JSON") {
  if (std::system("/usr/bin/python3 -c 'import importlib.util, sys; "
                  "sys.exit(importlib.util.find_spec(\"torch\") is None)' > /dev/null 2>&1") != 0) {
    MESSAGE(
        "skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch "
        "python3-numpy); the committed golden files are used as they are");
    return;
  }
  const fs::path dir = temp_dir("golden");
  const std::string command = "/usr/bin/python3 '" + (kGolden / "generate.py").string() + "' '" +
                              dir.string() + "' > /dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(kGolden)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    CAPTURE(entry.path().filename().string());
    json committed = read_json(entry.path()), fresh = read_json(dir / entry.path().filename());
    committed.erase("generated_by");
    fresh.erase("generated_by");
    const json a = committed.flatten(), b = fresh.flatten();
    CHECK(a.size() == b.size());
    for (const auto& [key, value] : a.items()) {
      CAPTURE(key);
      REQUIRE(b.contains(key));
      const json& other = b[key];
      if (value.is_number_float())
        CHECK(other.get<double>() == doctest::Approx(value.get<double>()).epsilon(1e-12));
      else
        CHECK(other == value);
    }
  }
  CHECK(files == 5);
  fs::remove_all(dir);
}
