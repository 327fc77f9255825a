#include "optim/adagrad.h"

#include <cmath>

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"

namespace normlab {

Adagrad::Adagrad(const AdagradConfig& config, const OptimizerOptions& options)
    : Optimizer(options), config_(config) {
  check(config.learning_rate > 0.0f,
        "Adagrad: learning_rate must be > 0, got " + format_float(config.learning_rate));
  check(config.initial_accumulator_value >= 0.0f,
        "Adagrad: initial_accumulator_value must be >= 0, got " +
            format_float(config.initial_accumulator_value));
  check(config.epsilon > 0.0f, "Adagrad: epsilon must be > 0, got " + format_float(config.epsilon));
}

nlohmann::json Adagrad::own_config() const {
  return {{"learning_rate", config_.learning_rate},
          {"initial_accumulator_value", config_.initial_accumulator_value},
          {"epsilon", config_.epsilon},
          {"epsilon_placement", epsilon_placement_name(config_.epsilon_placement)}};
}

void Adagrad::update(const Variable& var, Tensor* slots, std::int64_t) {
  float *w = var.value->data(), *acc = slots[0].data();
  const float* g = var.grad->data();
  const float lr = step_learning_rate_, eps = config_.epsilon;
  const bool keras = config_.epsilon_placement == EpsilonPlacement::Keras;
  parallel_for(var.value->size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      acc[i] += g[i] * g[i];
      w[i] -= lr * g[i] / (keras ? std::sqrt(acc[i] + eps) : std::sqrt(acc[i]) + eps);
    }
  });
}

}  // namespace normlab
