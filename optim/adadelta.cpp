#include "optim/adadelta.h"

#include <cmath>

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"

namespace normlab {

Adadelta::Adadelta(const AdadeltaConfig& config, const OptimizerOptions& options)
    : Optimizer(options), config_(config) {
  check(config.learning_rate > 0.0f,
        "Adadelta: learning_rate must be > 0, got " + format_float(config.learning_rate));
  check(config.rho >= 0.0f && config.rho < 1.0f,
        "Adadelta: rho must be in [0, 1), got " + format_float(config.rho));
  check(config.epsilon > 0.0f,
        "Adadelta: epsilon must be > 0, got " + format_float(config.epsilon));
}

nlohmann::json Adadelta::own_config() const {
  return {
      {"learning_rate", config_.learning_rate}, {"rho", config_.rho}, {"epsilon", config_.epsilon}};
}

void Adadelta::update(const Variable& var, Tensor* slots, std::int64_t) {
  float *w = var.value->data(), *acc_g = slots[0].data(), *acc_d = slots[1].data();
  const float* g = var.grad->data();
  const float lr = step_learning_rate_, rho = config_.rho, eps = config_.epsilon;
  parallel_for(var.value->size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      acc_g[i] = rho * acc_g[i] + (1.0f - rho) * (g[i] * g[i]);
      const float dw = -(std::sqrt(acc_d[i] + eps) * g[i]) / std::sqrt(acc_g[i] + eps);
      acc_d[i] = rho * acc_d[i] + (1.0f - rho) * (dw * dw);
      w[i] += lr * dw;
    }
  });
}

}  // namespace normlab
