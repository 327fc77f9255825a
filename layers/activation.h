// Activation: y = f(x) elementwise (softmax per row); see layers/activations.h for every f and
// its derivative. Shapes: x, y, dy, dx all N x D. Caches y. No weights.
#pragma once

#include "core/layer.h"
#include "layers/activations.h"

namespace normlab {

struct ActivationConfig {
  std::string activation = "linear";
  std::string name;
};

class Activation final : public Layer {
 public:
  explicit Activation(const std::string& activation);
  explicit Activation(const ActivationConfig& config);

  std::string class_name() const override { return "Activation"; }
  nlohmann::json get_config() const override;
  std::size_t output_dim() const override { return input_dim_; }
  const Tensor& forward(const Tensor& x, Mode mode) override;
  const Tensor& backward(const Tensor& dy) override;

  ActivationKind kind() const { return kind_; }

 private:
  void build_weights(Rng&) override {}

  ActivationKind kind_;
  Tensor y_, dx_;
};

}  // namespace normlab
