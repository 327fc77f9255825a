#include "optim/sgd.h"

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"

namespace normlab {

SGD::SGD(const SgdConfig& config, const OptimizerOptions& options)
    : Optimizer(options), config_(config) {
  check(config.learning_rate > 0.0f,
        "SGD: learning_rate must be > 0, got " + format_float(config.learning_rate));
  check(config.momentum >= 0.0f && config.momentum < 1.0f,
        "SGD: momentum must be in [0, 1), got " + format_float(config.momentum));
}

nlohmann::json SGD::own_config() const {
  return {{"learning_rate", config_.learning_rate},
          {"momentum", config_.momentum},
          {"nesterov", config_.nesterov}};
}

std::vector<std::string> SGD::slot_names() const {
  if (config_.momentum == 0.0f) return {};
  return {"velocity"};
}

void SGD::update(const Variable& var, Tensor* slots, std::int64_t) {
  float* w = var.value->data();
  const float* g = var.grad->data();
  float* velocity = slots ? slots[0].data() : nullptr;
  const float lr = step_learning_rate_, mu = config_.momentum;
  const bool nesterov = config_.nesterov;
  parallel_for(var.value->size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
    if (velocity == nullptr) {
      for (std::size_t i = begin; i < end; ++i) w[i] -= lr * g[i];
      return;
    }
    for (std::size_t i = begin; i < end; ++i) {
      velocity[i] = mu * velocity[i] - lr * g[i];
      w[i] += nesterov ? mu * velocity[i] - lr * g[i] : velocity[i];
    }
  });
}

}  // namespace normlab
