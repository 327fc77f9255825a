#include "optim/sgd.h"

#include "core/error.h"
#include "core/format.h"

namespace normlab {

SGD::SGD(const SgdConfig& config) : config_(config) {
  check(config.learning_rate > 0.0f,
        "SGD: learning_rate must be > 0, got " + format_float(config.learning_rate));
  check(config.momentum >= 0.0f && config.momentum < 1.0f,
        "SGD: momentum must be in [0, 1), got " + format_float(config.momentum));
}

nlohmann::json SGD::get_config() const {
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
  const float lr = config_.learning_rate, mu = config_.momentum;
  const std::size_t n = var.value->size();
  if (slots == nullptr) {
    for (std::size_t i = 0; i < n; ++i) w[i] -= lr * g[i];
    return;
  }
  float* velocity = slots[0].data();
  for (std::size_t i = 0; i < n; ++i) {
    velocity[i] = mu * velocity[i] - lr * g[i];
    w[i] += config_.nesterov ? mu * velocity[i] - lr * g[i] : velocity[i];
  }
}

}  // namespace normlab
