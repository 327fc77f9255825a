/// @file
/// @verbatim
/// Adagrad (Duchi et al. 2011) with Keras 3's update (keras/src/optimizers/adagrad.py):
///   acc <- acc + g^2                      acc starts at initial_accumulator_value
///   w   <- w - lr g / sqrt(acc + epsilon)        epsilon_placement "keras"
///   w   <- w - lr g / (sqrt(acc) + epsilon)      epsilon_placement "pytorch" (torch.optim)
/// @endverbatim
#pragma once

#include "optim/optimizer.h"

namespace normlab {

/// The arguments of Keras' Adagrad, and where epsilon goes.
struct AdagradConfig {
  float learning_rate = 1e-3f;             ///< lr.
  float initial_accumulator_value = 0.1f;  ///< Where acc starts, >= 0.
  float epsilon = 1e-7f;                   ///< Keeps the denominator away from 0.
  /// Keras' or PyTorch's form of the denominator.
  EpsilonPlacement epsilon_placement = EpsilonPlacement::Keras;
};

/// Adagrad with Keras 3's update.
class Adagrad final : public Optimizer {
 public:
  /// Adagrad with these settings (Keras' defaults).
  explicit Adagrad(const AdagradConfig& config = {}, const OptimizerOptions& options = {});
  std::string class_name() const override { return "Adagrad"; }
  /// Its settings.
  const AdagradConfig& config() const { return config_; }

 private:
  float configured_learning_rate() const override { return config_.learning_rate; }
  nlohmann::json own_config() const override;
  std::vector<std::string> slot_names() const override { return {"accumulator"}; }
  float slot_initial_value(std::size_t) const override { return config_.initial_accumulator_value; }
  void update(const Variable& var, Tensor* slots, std::int64_t t) override;

  AdagradConfig config_;
};

}  // namespace normlab
