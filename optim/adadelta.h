/// @file
/// @verbatim
/// Adadelta (Zeiler 2012) with Keras 3's update (keras/src/optimizers/adadelta.py), the same
/// as torch.optim.Adadelta's; rms(a) = sqrt(a + epsilon):
///   A  <- rho A + (1 - rho) g^2               accumulated_grad
///   dw  = - rms(D) g / rms(A)                 with D before this step
///   D  <- rho D + (1 - rho) dw^2              accumulated_delta_var
///   w  <- w + lr dw
/// @endverbatim
#pragma once

#include "optim/optimizer.h"

namespace normlab {

/// The arguments of Keras' Adadelta.
struct AdadeltaConfig {
  float learning_rate = 1e-3f;  ///< lr (1.0 is the paper's form).
  float rho = 0.95f;            ///< The decay of both accumulators.
  float epsilon = 1e-7f;        ///< Inside both square roots.
};

/// Adadelta with Keras 3's update.
class Adadelta final : public Optimizer {
 public:
  /// Adadelta with these settings (Keras' defaults).
  explicit Adadelta(const AdadeltaConfig& config = {}, const OptimizerOptions& options = {});
  std::string class_name() const override { return "Adadelta"; }
  /// Its settings.
  const AdadeltaConfig& config() const { return config_; }

 private:
  float configured_learning_rate() const override { return config_.learning_rate; }
  nlohmann::json own_config() const override;
  std::vector<std::string> slot_names() const override {
    return {"accumulated_grad", "accumulated_delta_var"};
  }
  void update(const Variable& var, Tensor* slots, std::int64_t t) override;

  AdadeltaConfig config_;
};

}  // namespace normlab
