/// @file
/// @verbatim
/// RMSprop (Hinton 2012) with Keras 3's update (keras/src/optimizers/rmsprop.py):
///   v   <- rho v + (1 - rho) g^2
///   a   <- rho a + (1 - rho) g,   d = v - a^2          centered
///                                 d = v                otherwise
///   inc  = lr g / sqrt(d + epsilon)                    epsilon_placement "keras"
///   inc  = lr g / (sqrt(d) + epsilon)                  epsilon_placement "pytorch" (torch.optim)
///   mom <- momentum mom + inc,  w <- w - mom           momentum > 0
///   w   <- w - inc                                     otherwise
/// @endverbatim
#pragma once

#include "optim/optimizer.h"

namespace normlab {

/// The arguments of Keras' RMSprop, and where epsilon goes.
struct RmspropConfig {
  float learning_rate = 1e-3f;  ///< lr.
  float rho = 0.9f;             ///< The decay of the mean square v.
  float momentum = 0.0f;        ///< The decay of the accumulated increments; 0: none.
  float epsilon = 1e-7f;        ///< Keeps the denominator away from 0.
  bool centered = false;        ///< Divide by the variance of g rather than its mean square.
  /// Keras' or PyTorch's form of the denominator.
  EpsilonPlacement epsilon_placement = EpsilonPlacement::Keras;
};

/// RMSprop with Keras 3's update.
class RMSprop final : public Optimizer {
 public:
  /// RMSprop with these settings (Keras' defaults).
  explicit RMSprop(const RmspropConfig& config = {}, const OptimizerOptions& options = {});
  std::string class_name() const override { return "RMSprop"; }
  /// Its settings.
  const RmspropConfig& config() const { return config_; }

 private:
  float configured_learning_rate() const override { return config_.learning_rate; }
  nlohmann::json own_config() const override;
  std::vector<std::string> slot_names() const override;
  void update(const Variable& var, Tensor* slots, std::int64_t t) override;

  RmspropConfig config_;
};

}  // namespace normlab
