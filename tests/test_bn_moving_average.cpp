// BatchNormalization's moving-average rule (layers/bn_moving_average.h): momentum null against
// PyTorch's cumulative average (tests/torch_golden/), the debiased average against its closed
// form, and the three variance estimators.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "layers/batch_normalization.h"
#include "layers/presets.h"

#include "batchnorm_options_support.h"

using namespace normlab;
using namespace normlab::bn_options;

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
