// Stochastic gradient descent in Keras' form:
//   momentum 0:  w <- w - lr g
//   otherwise:   velocity <- momentum velocity - lr g
//                w <- w + velocity                             (classic)
//                w <- w + momentum velocity - lr g             (nesterov)
#pragma once

#include "optim/optimizer.h"

namespace normlab {

struct SgdConfig {
  float learning_rate = 0.01f;
  float momentum = 0.0f;
  bool nesterov = false;
};

class SGD final : public Optimizer {
 public:
  explicit SGD(const SgdConfig& config = {});
  std::string class_name() const override { return "SGD"; }
  nlohmann::json get_config() const override;
  const SgdConfig& config() const { return config_; }

 private:
  std::vector<std::string> slot_names() const override;
  void update(const Variable& var, Tensor* slots, std::int64_t t) override;

  SgdConfig config_;
};

}  // namespace normlab
