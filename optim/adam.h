/// @file
/// @verbatim
/// Adam (Kingma & Ba 2015) with Keras 3's exact update; t = 1 at the first step:
///   m     <- m + (g - m) (1 - beta_1)
///   v     <- v + (g^2 - v) (1 - beta_2)
///   alpha  = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
///   w     <- w - alpha m / (sqrt(v) + epsilon)                       epsilon_placement "keras"
/// PyTorch and TensorFlow.js add epsilon after the bias correction instead:
///   w     <- w - lr m_hat / (sqrt(v_hat) + epsilon),
///            m_hat = m / (1 - beta_1^t), v_hat = v / (1 - beta_2^t)  epsilon_placement "pytorch"
/// The two agree up to epsilon -> epsilon / sqrt(1 - beta_2^t). Defaults are Keras'.
/// @endverbatim
#pragma once

#include "optim/optimizer.h"

namespace normlab {

/// Where epsilon enters the update: the two forms above.
enum class EpsilonPlacement { Keras, PyTorch };

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
};

/// "keras" or "pytorch"; anything else throws.
EpsilonPlacement parse_epsilon_placement(const std::string& name);

/// Adam with Keras 3's exact update.
class Adam final : public Optimizer {
 public:
  /// Adam with these settings (Keras' defaults).
  explicit Adam(const AdamConfig& config = {});
  std::string class_name() const override { return "Adam"; }
  nlohmann::json get_config() const override;
  /// Its settings.
  const AdamConfig& config() const { return config_; }

 private:
  std::vector<std::string> slot_names() const override { return {"m", "v"}; }
  void update(const Variable& var, Tensor* slots, std::int64_t t) override;

  AdamConfig config_;
};

}  // namespace normlab
