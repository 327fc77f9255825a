/// @file
/// @verbatim
/// LayerNormalization over the last axis (per row i, statistics over its D features), Keras'
/// layer (keras/src/layers/normalization/layer_normalization.py, keras/src/ops/nn.py
/// _layer_normalization). Shapes: x, y, xhat N x D; gamma, beta 1 x D; mean, var, inv 1 x N.
///
/// Forward (the same in training and inference; no state)          forward()
///   mean_i = (1/D) sum_j x_ij                                      1  row moments
///   var_i  = (1/D) sum_j (x_ij - mean_i)^2                            (biased, two passes)
///   inv_i  = 1 / sqrt(var_i + eps)
///   xhat   = (x - mean) * inv                                      2  normalize
///   y      = gamma * xhat + beta                                      (gamma 1 without scale,
///                                                                      beta 0 without center)
///   rms_scaling (Keras' deprecated flag): y = gamma * x * inv, no beta; center and scale are
///   ignored and gamma always exists. var is still the mean-centred variance.
/// A constant row has var = 0: xhat = 0 and y = beta.
///
/// Backward, g = dy, a = g * gamma, row means over the D features    backward()
///   dbeta  += sum_i g                                              1  parameter sums
///   dgamma += sum_i g * xhat             (rms_scaling: g * x * inv)
///   dx = inv * (a - mean(a) - xhat * mean(a * xhat))               2  dx
///   rms_scaling: dx = inv * (a - xhat * mean(a * x * inv))
///   (mean and var depend on x: the full gradient through the row statistics; a constant row
///   still has dx = (a - mean(a)) / sqrt(eps))
///
/// Weights (Keras' order): gamma iff scale or rms_scaling, beta iff center and not
/// rms_scaling. Defaults are Keras': axis -1, epsilon 1e-3, gamma 1, beta 0.
/// @endverbatim
#pragma once

#include <string>

#include "core/layer.h"

namespace normlab {

/// The options of LayerNormalization, Keras' argument names and defaults.
struct LayerNormConfig {
  /// Added to the variance: inv = 1 / sqrt(var + epsilon).
  float epsilon = 1e-3f;
  /// With beta (false: beta = 0, not a weight).
  bool center = true;
  /// With gamma (false: gamma = 1, not a weight).
  bool scale = true;
  /// y = gamma * x / sqrt(var + eps): no mean subtraction in the numerator, no beta.
  bool rms_scaling = false;
  ///@{
  /// Initializers by Keras name (layers/initializers.h).
  std::string gamma_initializer = "ones";
  std::string beta_initializer = "zeros";
  ///@}
  /// The layer name; empty: chosen when added to a model.
  std::string name;
};

/// LayerNormalization over the last axis, Keras' semantics.
class LayerNormalization final : public Layer {
 public:
  /// A layer with these options (Keras' defaults when none are given).
  explicit LayerNormalization(const LayerNormConfig& config = {});

  std::string class_name() const override { return "LayerNormalization"; }
  /// Keras' keys: axis, epsilon, center, scale, rms_scaling, the initializers.
  nlohmann::json get_config() const override;
  std::size_t output_dim() const override { return input_dim_; }
  const Tensor& forward(const Tensor& x, const StepContext& ctx) override;
  const Tensor& backward(const Tensor& dy) override;
  /// gamma (scale or rms_scaling), beta (center and not rms_scaling).
  std::vector<Variable> variables() override;

  /// Its options.
  const LayerNormConfig& config() const { return config_; }
  /// The layer has gamma.
  bool has_gamma() const { return config_.scale || config_.rms_scaling; }
  /// The layer has beta.
  bool has_beta() const { return config_.center && !config_.rms_scaling; }
  ///@{
  /// Row statistics of the last forward (1 x N): mean and biased variance.
  const Tensor& row_mean() const { return mean_; }
  const Tensor& row_variance() const { return var_; }
  ///@}

  ///@{
  Tensor gamma, beta;  ///< trainable, 1 x D
  ///@}
  ///@{
  Tensor dgamma, dbeta;  ///< their gradients
                         ///@}

 private:
  void build_weights(Rng& rng) override;

  LayerNormConfig config_;
  Tensor mean_, var_, inv_;  // 1 x N
  Tensor xhat_, y_, dx_;     // N x D
};

}  // namespace normlab
