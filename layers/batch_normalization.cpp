#include "layers/batch_normalization.h"

#include <cmath>

#include "core/error.h"
#include "layers/initializers.h"

namespace normlab {

VarianceUpdate parse_variance_update(const std::string& name) {
  if (name == "biased") return VarianceUpdate::Biased;
  if (name == "unbiased") return VarianceUpdate::Unbiased;
  throw Error("unknown moving_variance_update '" + name + "': expected \"biased\" or \"unbiased\"");
}

std::string variance_update_name(VarianceUpdate v) {
  return v == VarianceUpdate::Biased ? "biased" : "unbiased";
}

BatchNormalization::BatchNormalization(const BatchNormConfig& config) : config_(config) {
  name_ = config.name;
  check(config.momentum >= 0.0f && config.momentum < 1.0f,
        "BatchNormalization: momentum must be in [0, 1), got " + std::to_string(config.momentum));
  check(config.epsilon > 0.0f,
        "BatchNormalization: epsilon must be > 0, got " + std::to_string(config.epsilon));
  for (const auto* init : {&config.gamma_initializer, &config.beta_initializer,
                           &config.moving_mean_initializer, &config.moving_variance_initializer})
    check_initializer(*init);
}

nlohmann::json BatchNormalization::get_config() const {
  return {{"name", name_},
          {"trainable", trainable_},
          {"axis", -1},
          {"momentum", config_.momentum},
          {"epsilon", config_.epsilon},
          {"center", config_.center},
          {"scale", config_.scale},
          {"gamma_initializer", config_.gamma_initializer},
          {"beta_initializer", config_.beta_initializer},
          {"moving_mean_initializer", config_.moving_mean_initializer},
          {"moving_variance_initializer", config_.moving_variance_initializer},
          {"moving_variance_update", variance_update_name(config_.moving_variance_update)}};
}

void BatchNormalization::build_weights(Rng& rng) {
  const std::size_t d = input_dim_;
  gamma = Tensor(1, d);
  beta = Tensor(1, d);
  dgamma = Tensor(1, d);
  dbeta = Tensor(1, d);
  moving_mean = Tensor(1, d);
  moving_variance = Tensor(1, d);
  initialize(config_.gamma_initializer, gamma, d, d, rng);
  initialize(config_.beta_initializer, beta, d, d, rng);
  initialize(config_.moving_mean_initializer, moving_mean, d, d, rng);
  initialize(config_.moving_variance_initializer, moving_variance, d, d, rng);
  mean_ = Tensor(1, d);
  var_ = Tensor(1, d);
  inv_std_ = Tensor(1, d);
  sum_g_ = Tensor(1, d);
  sum_g_xhat_ = Tensor(1, d);
}

std::vector<Variable> BatchNormalization::variables() {
  std::vector<Variable> vars;
  if (config_.scale) vars.push_back({"gamma", &gamma, &dgamma});
  if (config_.center) vars.push_back({"beta", &beta, &dbeta});
  vars.push_back({"moving_mean", &moving_mean, nullptr});
  vars.push_back({"moving_variance", &moving_variance, nullptr});
  return vars;
}

void BatchNormalization::compute_batch_statistics(const Tensor& x) {
  const std::size_t n = x.rows(), d = input_dim_;
  const float inv_n = 1.0f / static_cast<float>(n);
  // mean = (1/N) sum x
  mean_.fill(0.0f);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) mean_[j] += x(i, j);
  for (std::size_t j = 0; j < d; ++j) mean_[j] *= inv_n;
  // var = (1/N) sum (x - mean)^2
  var_.fill(0.0f);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const float c = x(i, j) - mean_[j];
      var_[j] += c * c;
    }
  for (std::size_t j = 0; j < d; ++j) var_[j] *= inv_n;
}

void BatchNormalization::update_moving_statistics(std::size_t n) {
  const float m = config_.momentum;
  float correction = 1.0f;  // biased: s = var
  if (config_.moving_variance_update == VarianceUpdate::Unbiased) {
    check(n >= 2, where() + ": moving_variance_update \"unbiased\" needs a batch of at least 2 " +
                      "rows (it scales by N/(N-1)), got 1");
    correction = static_cast<float>(n) / static_cast<float>(n - 1);
  }
  for (std::size_t j = 0; j < input_dim_; ++j) {
    moving_mean[j] = moving_mean[j] * m + mean_[j] * (1.0f - m);
    moving_variance[j] = moving_variance[j] * m + var_[j] * correction * (1.0f - m);
  }
}

void BatchNormalization::normalize(const Tensor& x, const Tensor& mean, const Tensor& inv_std) {
  const std::size_t n = x.rows(), d = input_dim_;
  xhat_.resize(n, d);
  y_.resize(n, d);
  for (std::size_t i = 0; i < n; ++i) {
    const float* xr = x.row(i);
    float* hr = xhat_.row(i);
    float* yr = y_.row(i);
    for (std::size_t j = 0; j < d; ++j) {
      hr[j] = (xr[j] - mean[j]) * inv_std[j];
      yr[j] = (config_.scale ? gamma[j] : 1.0f) * hr[j] + (config_.center ? beta[j] : 0.0f);
    }
  }
}

const Tensor& BatchNormalization::forward(const Tensor& x, Mode mode) {
  check_input(x);
  used_batch_statistics_ = mode == Mode::Train && trainable_;
  if (used_batch_statistics_) {
    compute_batch_statistics(x);
    update_moving_statistics(x.rows());
    for (std::size_t j = 0; j < input_dim_; ++j)
      inv_std_[j] = 1.0f / std::sqrt(var_[j] + config_.epsilon);
    normalize(x, mean_, inv_std_);
  } else {
    for (std::size_t j = 0; j < input_dim_; ++j)
      inv_std_[j] = 1.0f / std::sqrt(moving_variance[j] + config_.epsilon);
    normalize(x, moving_mean, inv_std_);
  }
  trained_forward_ = mode == Mode::Train;
  return y_;
}

const Tensor& BatchNormalization::backward(const Tensor& dy) {
  check_backward(dy, y_);
  const std::size_t n = dy.rows(), d = input_dim_;
  // sum g and sum g * xhat, per feature
  sum_g_.fill(0.0f);
  sum_g_xhat_.fill(0.0f);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      sum_g_[j] += dy(i, j);
      sum_g_xhat_[j] += dy(i, j) * xhat_(i, j);
    }
  // dbeta += sum g, dgamma += sum g * xhat
  for (std::size_t j = 0; j < d; ++j) {
    if (config_.center) dbeta[j] += sum_g_[j];
    if (config_.scale) dgamma[j] += sum_g_xhat_[j];
  }
  if (!input_grad_needed_) return dx_;
  dx_.resize(n, d);
  const float inv_n = 1.0f / static_cast<float>(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const float scale = (config_.scale ? gamma[j] : 1.0f) * inv_std_[j];
      // batch statistics: dx = gamma/sqrt(var+eps) * (g - mean(g) - xhat * mean(g * xhat))
      // moving statistics (constants): dx = gamma/sqrt(moving_variance+eps) * g
      dx_(i, j) =
          used_batch_statistics_
              ? scale * (dy(i, j) - sum_g_[j] * inv_n - xhat_(i, j) * sum_g_xhat_[j] * inv_n)
              : scale * dy(i, j);
    }
  return dx_;
}

}  // namespace normlab
