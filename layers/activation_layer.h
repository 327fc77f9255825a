/// @file
/// Activation: y = f(x) elementwise (softmax per row); see layers/activation_functions.h for every
/// f and its derivative. Shapes: x, y, dy, dx all N x D. Caches y. No weights.
#pragma once

#include "core/layer.h"
#include "layers/activation_functions.h"

namespace normlab {

/// The Keras config of Activation.
struct ActivationConfig {
  /// The Keras name of f: "relu", "sigmoid", ...
  std::string activation = "linear";
  /// The layer name; empty: chosen when added to a model.
  std::string name;
};

/// The Activation layer: y = f(x) elementwise (softmax per row), no weights.
class Activation final : public Layer {
 public:
  /// The layer applying f = `activation` ("relu").
  explicit Activation(const std::string& activation);
  /// The layer of a full config.
  explicit Activation(const ActivationConfig& config);

  std::string class_name() const override { return "Activation"; }
  nlohmann::json get_config() const override;
  std::size_t output_dim() const override { return input_dim_; }
  const Tensor& forward(const Tensor& x, const StepContext& ctx) override;
  const Tensor& backward(const Tensor& dy) override;

  /// Its function f.
  ActivationKind kind() const { return kind_; }

 private:
  void build_weights(Rng&) override {}

  ActivationKind kind_;
  Tensor y_, dx_;
};

}  // namespace normlab
