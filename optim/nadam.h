/// @file
/// @verbatim
/// Nadam (Dozat 2015), Adam with Nesterov momentum, with Keras 3's update
/// (keras/src/optimizers/nadam.py); t = 1 at the first step:
///   u_t   = beta_1 (1 - 0.5 * 0.96^(t d))          d = momentum_decay: 1 Keras, 0.004 PyTorch
///   P_t   = u_1 u_2 ... u_t                         (Keras' u_product)
///   m    <- m + (g - m) (1 - beta_1)
///   v    <- v + (g^2 - v) (1 - beta_2)
///   m_hat = u_{t+1} m / (1 - P_t u_{t+1}) + (1 - u_t) g / (1 - P_t)
///   v_hat = v / (1 - beta_2^t)
///   w    <- w - lr m_hat / (sqrt(v_hat) + epsilon)
/// torch.optim.NAdam is the same update with momentum_decay 0.004.
/// @endverbatim
#pragma once

#include "optim/optimizer.h"

namespace normlab {

/// The arguments of Keras' Nadam, and PyTorch's momentum schedule as an option.
struct NadamConfig {
  float learning_rate = 1e-3f;  ///< lr.
  float beta_1 = 0.9f;          ///< The decay of the first moment m.
  float beta_2 = 0.999f;        ///< The decay of the second moment v.
  float epsilon = 1e-7f;        ///< Added to the denominator.
  /// d in the momentum schedule: 1 is Keras', 0.004 torch.optim.NAdam's default.
  float momentum_decay = 1.0f;
};

/// Nadam with Keras 3's update.
class Nadam final : public Optimizer {
 public:
  /// Nadam with these settings (Keras' defaults).
  explicit Nadam(const NadamConfig& config = {}, const OptimizerOptions& options = {});
  std::string class_name() const override { return "Nadam"; }
  /// Its settings.
  const NadamConfig& config() const { return config_; }

 private:
  float configured_learning_rate() const override { return config_.learning_rate; }
  nlohmann::json own_config() const override;
  std::vector<std::string> slot_names() const override { return {"momentum", "velocity"}; }
  void begin_step(std::int64_t t) override;
  void update(const Variable& var, Tensor* slots, std::int64_t t) override;
  double u(std::int64_t t) const;  ///< u_t above

  NadamConfig config_;
  // P_t of step product_step_, a function of t alone: recomputed after a resume, then
  // multiplied once per step in the same order, so a resumed run repeats bit for bit.
  double product_ = 1.0;
  std::int64_t product_step_ = 0;
};

}  // namespace normlab
