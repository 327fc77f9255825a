/// @file
/// @verbatim
/// Lion (Chen et al. 2023) with Keras 3's update (keras/src/optimizers/lion.py):
///   w <- w - lr sign(beta_1 m + (1 - beta_1) g)       with m before this step
///   m <- beta_2 m + (1 - beta_2) g
/// Every step moves each weight by exactly lr (or 0), so Lion wants a learning rate 3-10x
/// smaller than AdamW's, and a larger weight decay.
/// @endverbatim
#pragma once

#include "optim/optimizer.h"

namespace normlab {

/// The arguments of Keras' Lion.
struct LionConfig {
  float learning_rate = 1e-3f;  ///< lr.
  float beta_1 = 0.9f;          ///< Mixes m and g inside the sign, in (0, 1].
  float beta_2 = 0.99f;         ///< The decay of the momentum m.
};

/// Lion with Keras 3's update.
class Lion final : public Optimizer {
 public:
  /// Lion with these settings (Keras' defaults).
  explicit Lion(const LionConfig& config = {}, const OptimizerOptions& options = {});
  std::string class_name() const override { return "Lion"; }
  /// Its settings.
  const LionConfig& config() const { return config_; }

 private:
  float configured_learning_rate() const override { return config_.learning_rate; }
  nlohmann::json own_config() const override;
  std::vector<std::string> slot_names() const override { return {"momentum"}; }
  void update(const Variable& var, Tensor* slots, std::int64_t t) override;

  LionConfig config_;
};

}  // namespace normlab
