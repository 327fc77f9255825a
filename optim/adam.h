/// @file
/// @verbatim
/// Adam (Kingma & Ba 2015) with Keras 3's exact update (keras/src/optimizers/adam.py);
/// t = 1 at the first step:
///   m     <- m + (g - m) (1 - beta_1)
///   v     <- v + (g^2 - v) (1 - beta_2)
///   v_hat <- max(v_hat, v), which replaces v below                  amsgrad only
///   alpha  = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
///   w     <- w - alpha m / (sqrt(v) + epsilon)                       epsilon_placement "keras"
/// PyTorch and TensorFlow.js add epsilon after the bias correction instead:
///   w     <- w - lr m_hat / (sqrt(v_hat) + epsilon),
///            m_hat = m / (1 - beta_1^t), v_hat = v / (1 - beta_2^t)  epsilon_placement "pytorch"
/// The two agree up to epsilon -> epsilon / sqrt(1 - beta_2^t). Defaults are Keras'.
/// AdamW (keras/src/optimizers/adamw.py) is this Adam with weight_decay, 0.004 by default,
/// applied by the optimizer contract before the update (optimizer.h).
/// @endverbatim
#pragma once

#include "optim/optimizer.h"

namespace normlab {

/// The arguments of Keras' Adam, and where epsilon goes.
struct AdamConfig {
  /// lr.
  float learning_rate = 1e-3f;
  /// The decay of the first moment m.
  float beta_1 = 0.9f;
  /// The decay of the second moment v.
  float beta_2 = 0.999f;
  /// Added to the denominator.
  float epsilon = 1e-7f;
  /// Keras' or PyTorch's form of the update.
  EpsilonPlacement epsilon_placement = EpsilonPlacement::Keras;
  /// AMSGrad (Reddi et al. 2018): the denominator uses the largest v so far.
  bool amsgrad = false;
};

/// Adam with Keras 3's exact update.
class Adam : public Optimizer {
 public:
  /// Adam with these settings (Keras' defaults).
  explicit Adam(const AdamConfig& config = {}, const OptimizerOptions& options = {});
  std::string class_name() const override { return "Adam"; }
  /// Its settings.
  const AdamConfig& config() const { return config_; }

 protected:
  float configured_learning_rate() const override { return config_.learning_rate; }
  nlohmann::json own_config() const override;

 private:
  std::vector<std::string> slot_names() const override;
  void update(const Variable& var, Tensor* slots, std::int64_t t) override;

  AdamConfig config_;
};

/// Keras' AdamW: Adam whose weight_decay is always set (0.004 unless given).
class AdamW final : public Adam {
 public:
  /// Keras' default weight decay.
  static constexpr float kDefaultWeightDecay = 0.004f;
  /// AdamW with these settings; options.weight_decay must be set.
  AdamW(const AdamConfig& config, const OptimizerOptions& options);
  std::string class_name() const override { return "AdamW"; }
};

}  // namespace normlab
