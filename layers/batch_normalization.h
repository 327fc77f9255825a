// BatchNormalization over the last axis (per feature j, statistics over the N rows of a batch).
//
// Training forward (Mode::Train, layer trainable):
//   mean_j = (1/N) sum_i x_ij                          batch mean
//   var_j  = (1/N) sum_i (x_ij - mean_j)^2              biased batch variance, two passes
//   xhat   = (x - mean) / sqrt(var + eps)
//   y      = gamma * xhat + beta
//   moving_mean     <- moving_mean * momentum + mean * (1 - momentum)
//   moving_variance <- moving_variance * momentum + s * (1 - momentum)
//       s = var (moving_variance_update "biased": Keras, TF.js)
//       s = var * N / (N - 1) ("unbiased": PyTorch; needs N >= 2)
// Inference forward (Mode::Infer, or a layer with trainable=false, as Keras does for fine-tuning):
//   the same normalization with moving_mean and moving_variance; nothing is updated.
// Backward (training), g = dy, sums over rows:
//   dbeta  += sum g            dgamma += sum g * xhat
//   dx      = gamma / (N sqrt(var + eps)) * (N g - sum g - xhat * sum(g * xhat))
//   (the statistics depend on x: this is the full batch-statistics gradient)
// Backward (frozen, normalized with the moving statistics, which are constants):
//   dx      = gamma * g / sqrt(moving_variance + eps)
// A batch of one row has var = 0, so xhat = 0 and y = beta (Keras' behaviour).
// Caches: xhat (N x D) and 1/sqrt(var + eps) (1 x D). Defaults are Keras': momentum 0.99,
// epsilon 1e-3, gamma 1, beta 0, moving_mean 0, moving_variance 1.
#pragma once

#include "core/layer.h"

namespace normlab {

enum class VarianceUpdate { Biased, Unbiased };

struct BatchNormConfig {
  float momentum = 0.99f;
  float epsilon = 1e-3f;
  bool center = true;
  bool scale = true;
  VarianceUpdate moving_variance_update = VarianceUpdate::Biased;
  std::string gamma_initializer = "ones";
  std::string beta_initializer = "zeros";
  std::string moving_mean_initializer = "zeros";
  std::string moving_variance_initializer = "ones";
  std::string name;
};

VarianceUpdate parse_variance_update(const std::string& name);
std::string variance_update_name(VarianceUpdate v);

class BatchNormalization final : public Layer {
 public:
  explicit BatchNormalization(const BatchNormConfig& config = {});

  std::string class_name() const override { return "BatchNormalization"; }
  nlohmann::json get_config() const override;
  std::size_t output_dim() const override { return input_dim_; }
  const Tensor& forward(const Tensor& x, Mode mode) override;
  const Tensor& backward(const Tensor& dy) override;
  std::vector<Variable> variables() override;

  const BatchNormConfig& config() const { return config_; }
  // Statistics of the last training batch (1 x D): mean and biased variance.
  const Tensor& batch_mean() const { return mean_; }
  const Tensor& batch_variance() const { return var_; }

  Tensor gamma, beta;                   // trainable, 1 x D
  Tensor dgamma, dbeta;                 // their gradients
  Tensor moving_mean, moving_variance;  // non-trainable state, 1 x D

 private:
  void build_weights(Rng& rng) override;
  void compute_batch_statistics(const Tensor& x);
  void update_moving_statistics(std::size_t n);
  // y = gamma * (x - mean) * inv_std + beta, caching xhat.
  void normalize(const Tensor& x, const Tensor& mean, const Tensor& inv_std);

  BatchNormConfig config_;
  bool used_batch_statistics_ = false;  // how the last training forward normalized
  Tensor mean_, var_, inv_std_;         // 1 x D
  Tensor sum_g_, sum_g_xhat_;           // 1 x D, backward scratch
  Tensor xhat_, y_, dx_;                // N x D
};

}  // namespace normlab
