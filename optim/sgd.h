/// @file
/// @verbatim
/// Stochastic gradient descent in Keras' form (keras/src/optimizers/sgd.py):
///   momentum 0:  w <- w - lr g
///   otherwise:   velocity <- momentum velocity - lr g
///                w <- w + velocity                             (classic)
///                w <- w + momentum velocity - lr g             (nesterov)
/// @endverbatim
#pragma once

#include "optim/optimizer.h"

namespace normlab {

/// The arguments of Keras' SGD.
struct SgdConfig {
  /// lr.
  float learning_rate = 0.01f;
  /// The weight of the previous velocity; 0: plain SGD.
  float momentum = 0.0f;
  /// Nesterov momentum instead of the classic one.
  bool nesterov = false;
};

/// Stochastic gradient descent with Keras' momentum and Nesterov forms.
class SGD final : public Optimizer {
 public:
  /// SGD with these settings (Keras' defaults).
  explicit SGD(const SgdConfig& config = {}, const OptimizerOptions& options = {});
  std::string class_name() const override { return "SGD"; }
  /// Its settings.
  const SgdConfig& config() const { return config_; }

 private:
  float configured_learning_rate() const override { return config_.learning_rate; }
  nlohmann::json own_config() const override;
  std::vector<std::string> slot_names() const override;
  void update(const Variable& var, Tensor* slots, std::int64_t t) override;

  SgdConfig config_;
};

}  // namespace normlab
