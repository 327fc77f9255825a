#include "optim/adam.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"

namespace normlab {

namespace {
// One pass over (w, g, m, v). Restrict lets GCC vectorize it (sqrt too: the library builds with
// -fno-math-errno); target_clones adds an AVX2 copy, picked at load time on CPUs that have it.
// Each element's operations are the same in both copies (no FMA), so the results are too.
// v_max is null unless amsgrad.
__attribute__((target_clones("avx2", "default"))) void adam_pass(
    std::size_t n, float alpha, float eps, float one_minus_b1, float one_minus_b2,
    float* __restrict w, const float* __restrict g, float* __restrict m, float* __restrict v) {
  for (std::size_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * one_minus_b1;
    const float vi = v[i] + (gi * gi - v[i]) * one_minus_b2;
    m[i] = mi;
    v[i] = vi;
    w[i] -= alpha * mi / (std::sqrt(vi) + eps);
  }
}

void amsgrad_pass(std::size_t n, float alpha, float eps, float one_minus_b1, float one_minus_b2,
                  float* __restrict w, const float* __restrict g, float* __restrict m,
                  float* __restrict v, float* __restrict v_max) {
  for (std::size_t i = 0; i < n; ++i) {
    const float gi = g[i];
    m[i] += (gi - m[i]) * one_minus_b1;
    v[i] += (gi * gi - v[i]) * one_minus_b2;
    v_max[i] = std::max(v_max[i], v[i]);
    w[i] -= alpha * m[i] / (std::sqrt(v_max[i]) + eps);
  }
}
}  // namespace

Adam::Adam(const AdamConfig& config, const OptimizerOptions& options)
    : Optimizer(options), config_(config) {
  check(config.learning_rate > 0.0f,
        "Adam: learning_rate must be > 0, got " + format_float(config.learning_rate));
  check(config.beta_1 >= 0.0f && config.beta_1 < 1.0f,
        "Adam: beta_1 must be in [0, 1), got " + format_float(config.beta_1));
  check(config.beta_2 >= 0.0f && config.beta_2 < 1.0f,
        "Adam: beta_2 must be in [0, 1), got " + format_float(config.beta_2));
  check(config.epsilon > 0.0f, "Adam: epsilon must be > 0, got " + format_float(config.epsilon));
}

nlohmann::json Adam::own_config() const {
  nlohmann::json c = {{"learning_rate", config_.learning_rate},
                      {"beta_1", config_.beta_1},
                      {"beta_2", config_.beta_2},
                      {"epsilon", config_.epsilon},
                      {"epsilon_placement", epsilon_placement_name(config_.epsilon_placement)}};
  if (config_.amsgrad) c["amsgrad"] = true;
  return c;
}

std::vector<std::string> Adam::slot_names() const {
  if (config_.amsgrad) return {"m", "v", "v_hat"};
  return {"m", "v"};
}

void Adam::update(const Variable& var, Tensor* slots, std::int64_t t) {
  const double b1 = config_.beta_1, b2 = config_.beta_2;
  const double correction1 = 1.0 - std::pow(b1, static_cast<double>(t));
  const double correction2 = 1.0 - std::pow(b2, static_cast<double>(t));
  // Both placements as w -= alpha m / (sqrt(v) + eps_hat):
  //   keras:   alpha = lr sqrt(c2) / c1, eps_hat = eps
  //   pytorch: the same alpha, eps_hat = eps sqrt(c2)   (multiply through by sqrt(c2))
  const float alpha =
      static_cast<float>(step_learning_rate_ * std::sqrt(correction2) / correction1);
  const float eps = config_.epsilon_placement == EpsilonPlacement::Keras
                        ? config_.epsilon
                        : static_cast<float>(config_.epsilon * std::sqrt(correction2));
  const float one_minus_b1 = 1.0f - config_.beta_1, one_minus_b2 = 1.0f - config_.beta_2;
  float *w = var.value->data(), *m = slots[0].data(), *v = slots[1].data();
  float* v_max = config_.amsgrad ? slots[2].data() : nullptr;
  const float* g = var.grad->data();
  parallel_for(var.value->size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
    if (v_max)
      amsgrad_pass(end - begin, alpha, eps, one_minus_b1, one_minus_b2, w + begin, g + begin,
                   m + begin, v + begin, v_max + begin);
    else
      adam_pass(end - begin, alpha, eps, one_minus_b1, one_minus_b2, w + begin, g + begin,
                m + begin, v + begin);
  });
}

AdamW::AdamW(const AdamConfig& config, const OptimizerOptions& options) : Adam(config, options) {
  check(options.weight_decay.has_value(), "AdamW: weight_decay must be a number, got none");
}

}  // namespace normlab
