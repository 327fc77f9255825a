#include "optim/adamax.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"

namespace normlab {

Adamax::Adamax(const AdamaxConfig& config, const OptimizerOptions& options)
    : Optimizer(options), config_(config) {
  check(config.learning_rate > 0.0f,
        "Adamax: learning_rate must be > 0, got " + format_float(config.learning_rate));
  check(config.beta_1 >= 0.0f && config.beta_1 < 1.0f,
        "Adamax: beta_1 must be in [0, 1), got " + format_float(config.beta_1));
  check(config.beta_2 >= 0.0f && config.beta_2 < 1.0f,
        "Adamax: beta_2 must be in [0, 1), got " + format_float(config.beta_2));
  check(config.epsilon > 0.0f, "Adamax: epsilon must be > 0, got " + format_float(config.epsilon));
}

nlohmann::json Adamax::own_config() const {
  return {{"learning_rate", config_.learning_rate},
          {"beta_1", config_.beta_1},
          {"beta_2", config_.beta_2},
          {"epsilon", config_.epsilon},
          {"epsilon_placement", epsilon_placement_name(config_.epsilon_placement)}};
}

void Adamax::update(const Variable& var, Tensor* slots, std::int64_t t) {
  const float step = static_cast<float>(step_learning_rate_ /
                                        (1.0 - std::pow(config_.beta_1, static_cast<double>(t))));
  const float b2 = config_.beta_2, one_minus_b1 = 1.0f - config_.beta_1;
  const bool keras = config_.epsilon_placement == EpsilonPlacement::Keras;
  const float eps_in_max = keras ? 0.0f : config_.epsilon, eps_added = keras ? config_.epsilon : 0;
  float *w = var.value->data(), *m = slots[0].data(), *u = slots[1].data();
  const float* g = var.grad->data();
  parallel_for(var.value->size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      m[i] += (g[i] - m[i]) * one_minus_b1;
      u[i] = std::max(b2 * u[i], std::abs(g[i]) + eps_in_max);
      w[i] -= step * m[i] / (u[i] + eps_added);
    }
  });
}

}  // namespace normlab
