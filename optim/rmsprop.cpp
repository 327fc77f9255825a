#include "optim/rmsprop.h"

#include <cmath>

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"

namespace normlab {

RMSprop::RMSprop(const RmspropConfig& config, const OptimizerOptions& options)
    : Optimizer(options), config_(config) {
  check(config.learning_rate > 0.0f,
        "RMSprop: learning_rate must be > 0, got " + format_float(config.learning_rate));
  check(config.rho >= 0.0f && config.rho < 1.0f,
        "RMSprop: rho must be in [0, 1), got " + format_float(config.rho));
  check(config.momentum >= 0.0f && config.momentum < 1.0f,
        "RMSprop: momentum must be in [0, 1), got " + format_float(config.momentum));
  check(config.epsilon > 0.0f, "RMSprop: epsilon must be > 0, got " + format_float(config.epsilon));
}

nlohmann::json RMSprop::own_config() const {
  return {{"learning_rate", config_.learning_rate},
          {"rho", config_.rho},
          {"momentum", config_.momentum},
          {"epsilon", config_.epsilon},
          {"centered", config_.centered},
          {"epsilon_placement", epsilon_placement_name(config_.epsilon_placement)}};
}

// Keras' names; the momentum and average-gradient slots exist only when used.
std::vector<std::string> RMSprop::slot_names() const {
  std::vector<std::string> names{"velocity"};
  if (config_.momentum > 0.0f) names.push_back("momentum");
  if (config_.centered) names.push_back("average_gradient");
  return names;
}

void RMSprop::update(const Variable& var, Tensor* slots, std::int64_t) {
  const RmspropConfig& c = config_;
  float* w = var.value->data();
  const float* g = var.grad->data();
  float* v = slots[0].data();
  float* mom = c.momentum > 0.0f ? slots[1].data() : nullptr;
  float* avg = c.centered ? slots[c.momentum > 0.0f ? 2 : 1].data() : nullptr;
  const bool keras = c.epsilon_placement == EpsilonPlacement::Keras;
  const float lr = step_learning_rate_;
  parallel_for(var.value->size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      v[i] = c.rho * v[i] + (1.0f - c.rho) * (g[i] * g[i]);
      float d = v[i];
      if (avg) {
        avg[i] = c.rho * avg[i] + (1.0f - c.rho) * g[i];
        d -= avg[i] * avg[i];
      }
      const float inc = lr * g[i] / (keras ? std::sqrt(d + c.epsilon) : std::sqrt(d) + c.epsilon);
      if (mom) {
        mom[i] = c.momentum * mom[i] + inc;
        w[i] -= mom[i];
      } else {
        w[i] -= inc;
      }
    }
  });
}

}  // namespace normlab
