#include "optim/nadam.h"

#include <cmath>

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"

namespace normlab {

Nadam::Nadam(const NadamConfig& config, const OptimizerOptions& options)
    : Optimizer(options), config_(config) {
  check(config.learning_rate > 0.0f,
        "Nadam: learning_rate must be > 0, got " + format_float(config.learning_rate));
  check(config.beta_1 >= 0.0f && config.beta_1 < 1.0f,
        "Nadam: beta_1 must be in [0, 1), got " + format_float(config.beta_1));
  check(config.beta_2 >= 0.0f && config.beta_2 < 1.0f,
        "Nadam: beta_2 must be in [0, 1), got " + format_float(config.beta_2));
  check(config.epsilon > 0.0f, "Nadam: epsilon must be > 0, got " + format_float(config.epsilon));
  check(config.momentum_decay > 0.0f,
        "Nadam: momentum_decay must be > 0, got " + format_float(config.momentum_decay));
}

nlohmann::json Nadam::own_config() const {
  nlohmann::json c = {{"learning_rate", config_.learning_rate},
                      {"beta_1", config_.beta_1},
                      {"beta_2", config_.beta_2},
                      {"epsilon", config_.epsilon}};
  if (config_.momentum_decay != 1.0f) c["momentum_decay"] = config_.momentum_decay;
  return c;
}

double Nadam::u(std::int64_t t) const {
  return config_.beta_1 *
         (1.0 - 0.5 * std::pow(0.96, static_cast<double>(t) * config_.momentum_decay));
}

void Nadam::begin_step(std::int64_t t) {
  if (product_step_ != t - 1) {  // a fresh or resumed optimizer: P_{t-1} from the start
    product_ = 1.0;
    for (std::int64_t i = 1; i < t; ++i) product_ *= u(i);
  }
  product_ *= u(t);
  product_step_ = t;
}

void Nadam::update(const Variable& var, Tensor* slots, std::int64_t t) {
  const double u_t = u(t), u_next = u(t + 1);
  // m_hat = a m + b g, then w -= lr m_hat / (sqrt(v / c2) + eps)
  const float a = static_cast<float>(u_next / (1.0 - product_ * u_next));
  const float b = static_cast<float>((1.0 - u_t) / (1.0 - product_));
  const float c2 = static_cast<float>(1.0 - std::pow(config_.beta_2, static_cast<double>(t)));
  const float lr = step_learning_rate_, eps = config_.epsilon;
  const float one_minus_b1 = 1.0f - config_.beta_1, one_minus_b2 = 1.0f - config_.beta_2;
  float *w = var.value->data(), *m = slots[0].data(), *v = slots[1].data();
  const float* g = var.grad->data();
  parallel_for(var.value->size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      m[i] += (g[i] - m[i]) * one_minus_b1;
      v[i] += (g[i] * g[i] - v[i]) * one_minus_b2;
      w[i] -= lr * (a * m[i] + b * g[i]) / (std::sqrt(v[i] / c2) + eps);
    }
  });
}

}  // namespace normlab
