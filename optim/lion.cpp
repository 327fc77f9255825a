#include "optim/lion.h"

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"

namespace normlab {

Lion::Lion(const LionConfig& config, const OptimizerOptions& options)
    : Optimizer(options), config_(config) {
  check(config.learning_rate > 0.0f,
        "Lion: learning_rate must be > 0, got " + format_float(config.learning_rate));
  // Keras: beta_1 outside (0, 1] degenerates to SignSGD.
  check(config.beta_1 > 0.0f && config.beta_1 <= 1.0f,
        "Lion: beta_1 must be in (0, 1], got " + format_float(config.beta_1));
  check(config.beta_2 >= 0.0f && config.beta_2 < 1.0f,
        "Lion: beta_2 must be in [0, 1), got " + format_float(config.beta_2));
}

nlohmann::json Lion::own_config() const {
  return {{"learning_rate", config_.learning_rate},
          {"beta_1", config_.beta_1},
          {"beta_2", config_.beta_2}};
}

void Lion::update(const Variable& var, Tensor* slots, std::int64_t) {
  float *w = var.value->data(), *m = slots[0].data();
  const float* g = var.grad->data();
  const float lr = step_learning_rate_, b1 = config_.beta_1, b2 = config_.beta_2;
  parallel_for(var.value->size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const float c = m[i] * b1 + g[i] * (1.0f - b1);
      w[i] -= lr * static_cast<float>((c > 0.0f) - (c < 0.0f));
      m[i] = m[i] * b2 + g[i] * (1.0f - b2);
    }
  });
}

}  // namespace normlab
