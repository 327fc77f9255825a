/// @file
/// @verbatim
/// Adamax (Kingma & Ba 2015, section 7.1) with Keras 3's update
/// (keras/src/optimizers/adamax.py); t = 1 at the first step:
///   m <- m + (g - m) (1 - beta_1)
///   u <- max(beta_2 u, |g|)
///   w <- w - lr m / ((1 - beta_1^t) (u + epsilon))       epsilon_placement "keras"
/// torch.optim.Adamax puts epsilon inside the maximum:
///   u <- max(beta_2 u, |g| + epsilon),  w <- w - lr m / ((1 - beta_1^t) u)   "pytorch"
/// @endverbatim
#pragma once

#include "optim/optimizer.h"

namespace normlab {

/// The arguments of Keras' Adamax, and where epsilon goes.
struct AdamaxConfig {
  float learning_rate = 1e-3f;  ///< lr.
  float beta_1 = 0.9f;          ///< The decay of the first moment m.
  float beta_2 = 0.999f;        ///< The decay of the infinity norm u.
  float epsilon = 1e-7f;        ///< Keeps the denominator away from 0.
  /// Keras' or PyTorch's form of the denominator.
  EpsilonPlacement epsilon_placement = EpsilonPlacement::Keras;
};

/// Adamax with Keras 3's update.
class Adamax final : public Optimizer {
 public:
  /// Adamax with these settings (Keras' defaults).
  explicit Adamax(const AdamaxConfig& config = {}, const OptimizerOptions& options = {});
  std::string class_name() const override { return "Adamax"; }
  /// Its settings.
  const AdamaxConfig& config() const { return config_; }

 private:
  float configured_learning_rate() const override { return config_.learning_rate; }
  nlohmann::json own_config() const override;
  std::vector<std::string> slot_names() const override { return {"momentum", "norm"}; }
  void update(const Variable& var, Tensor* slots, std::int64_t t) override;

  AdamaxConfig config_;
};

}  // namespace normlab
