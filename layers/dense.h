/// @file
/// @verbatim
/// Dense: a fully connected layer, y = f(x W + b).
///
/// Shapes: x N x D_in, kernel W D_in x D_out (Keras layout), bias b 1 x D_out, y N x D_out.
/// Forward:   z = x W + b                   one GEMM, then the bias added to every row
///            y = f(z)                      f: layers/activation_functions.h (linear default)
/// Backward:  dz = f'(z) * dy               from the cached y
///            dW += x^T dz                  GEMM, accumulated
///            db += sum over rows of dz
///            dx  = dz W^T                  GEMM (skipped for the first layer of a model)
/// Caches: a pointer to x (the previous layer's output buffer, unchanged until the next
/// forward) and y. Initial values: kernel glorot_uniform, bias zeros (Keras).
/// @endverbatim
#pragma once

#include "core/layer.h"
#include "layers/activation_functions.h"

namespace normlab {

/// The Keras config of Dense.
struct DenseConfig {
  /// D_out, the output width.
  std::size_t units = 0;
  /// f, by Keras name.
  std::string activation = "linear";
  /// With the bias b (false: z = x W).
  bool use_bias = true;
  /// The initializer of W, by Keras name (layers/initializers.h).
  std::string kernel_initializer = "glorot_uniform";
  /// The initializer of b.
  std::string bias_initializer = "zeros";
  /// The layer name; empty: chosen when added to a model.
  std::string name;
};

/// A fully connected layer, y = f(x W + b).
class Dense final : public Layer {
 public:
  /// Keras' Dense(units, activation, use_bias).
  explicit Dense(std::size_t units, const std::string& activation = "linear", bool use_bias = true);
  /// The layer of a full config.
  explicit Dense(const DenseConfig& config);

  std::string class_name() const override { return "Dense"; }
  nlohmann::json get_config() const override;
  std::size_t output_dim() const override { return config_.units; }
  const Tensor& forward(const Tensor& x, const StepContext& ctx) override;
  const Tensor& backward(const Tensor& dy) override;
  std::vector<Variable> variables() override;

  /// Its config.
  const DenseConfig& config() const { return config_; }

  ///@{
  Tensor kernel, bias;  ///< D_in x D_out, 1 x D_out
  ///@}
  ///@{
  Tensor dkernel, dbias;  ///< their gradients
                          ///@}

 private:
  void build_weights(Rng& rng) override;

  DenseConfig config_;
  ActivationKind activation_;
  const Tensor* x_ = nullptr;
  Tensor y_, dz_, dx_;
};

}  // namespace normlab
