#include "layers/layer_normalization.h"

#include <cmath>

#include "core/error.h"
#include "layers/initializers.h"

namespace normlab {

LayerNormalization::LayerNormalization(const LayerNormConfig& config) : config_(config) {
  if (!(config_.epsilon > 0.0f))
    throw Error("LayerNormalization: epsilon must be > 0, got " + std::to_string(config_.epsilon));
  name_ = config_.name;
}

nlohmann::json LayerNormalization::get_config() const {
  const auto& c = config_;
  return {{"name", name_},
          {"trainable", trainable_},
          {"axis", -1},
          {"epsilon", c.epsilon},
          {"center", c.center},
          {"scale", c.scale},
          {"rms_scaling", c.rms_scaling},
          {"gamma_initializer", c.gamma_initializer},
          {"beta_initializer", c.beta_initializer}};
}

void LayerNormalization::build_weights(Rng& rng) {
  const std::size_t d = input_dim_;
  gamma = Tensor(1, d, 1.0f);
  beta = Tensor(1, d, 0.0f);
  dgamma = Tensor(1, d);
  dbeta = Tensor(1, d);
  if (has_gamma()) initialize(config_.gamma_initializer, gamma, d, d, rng);
  if (has_beta()) initialize(config_.beta_initializer, beta, d, d, rng);
}

std::vector<Variable> LayerNormalization::variables() {
  std::vector<Variable> vars;
  if (has_gamma()) vars.push_back({"gamma", &gamma, &dgamma});
  if (has_beta()) vars.push_back({"beta", &beta, &dbeta});
  return vars;
}

const Tensor& LayerNormalization::forward(const Tensor& x, const StepContext& ctx) {
  check_input(x);
  trained_forward_ = ctx.training();
  const std::size_t n = x.rows(), d = x.cols();
  mean_.resize(1, n);
  var_.resize(1, n);
  inv_.resize(1, n);
  xhat_.resize(n, d);
  y_.resize(n, d);
  const bool rms = config_.rms_scaling;
  const float* g = gamma.data();
  const float* b = beta.data();
  for (std::size_t i = 0; i < n; ++i) {
    const float* xi = x.row(i);
    double sum = 0.0;
    for (std::size_t j = 0; j < d; ++j) sum += xi[j];
    const double mean = sum / static_cast<double>(d);
    double sq = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const double c = xi[j] - mean;
      sq += c * c;
    }
    const double var = sq / static_cast<double>(d);
    const float inv = static_cast<float>(1.0 / std::sqrt(var + config_.epsilon));
    mean_[i] = static_cast<float>(mean);
    var_[i] = static_cast<float>(var);
    inv_[i] = inv;
    float* h = xhat_.row(i);
    float* yi = y_.row(i);
    const float m = static_cast<float>(mean);
    for (std::size_t j = 0; j < d; ++j) {
      h[j] = (xi[j] - m) * inv;
      yi[j] = rms ? g[j] * (xi[j] * inv) : g[j] * h[j] + b[j];
    }
  }
  return y_;
}

const Tensor& LayerNormalization::backward(const Tensor& dy) {
  check_backward(dy, y_);
  const std::size_t n = dy.rows(), d = dy.cols();
  const bool rms = config_.rms_scaling;
  const bool params = trainable_;
  const float* g = gamma.data();
  dx_.resize(n, d);
  for (std::size_t i = 0; i < n; ++i) {
    const float* gi = dy.row(i);
    const float* h = xhat_.row(i);
    float* dxi = dx_.row(i);
    // rms: z = x * inv = xhat + mean * inv replaces xhat in dgamma and in mean(a * z).
    const float shift = rms ? mean_[i] * inv_[i] : 0.0f;
    double sum_a = 0.0, sum_az = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const double a = static_cast<double>(gi[j]) * g[j];
      sum_a += a;
      sum_az += a * (h[j] + shift);
    }
    if (params) {
      if (has_gamma())
        for (std::size_t j = 0; j < d; ++j) dgamma[j] += gi[j] * (h[j] + shift);
      if (has_beta())
        for (std::size_t j = 0; j < d; ++j) dbeta[j] += gi[j];
    }
    if (!input_grad_needed_) continue;
    const float mean_a = rms ? 0.0f : static_cast<float>(sum_a / static_cast<double>(d));
    const float mean_az = static_cast<float>(sum_az / static_cast<double>(d));
    const float inv = inv_[i];
    for (std::size_t j = 0; j < d; ++j) dxi[j] = inv * (gi[j] * g[j] - mean_a - h[j] * mean_az);
  }
  return dx_;
}

}  // namespace normlab
