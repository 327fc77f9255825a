#include "layers/activation_layer.h"

namespace normlab {

Activation::Activation(const std::string& activation)
    : Activation(ActivationConfig{.activation = activation}) {}

Activation::Activation(const ActivationConfig& config)
    : kind_(parse_activation(config.activation)) {
  name_ = config.name;
}

nlohmann::json Activation::get_config() const {
  return {{"name", name_}, {"trainable", trainable_}, {"activation", activation_name(kind_)}};
}

const Tensor& Activation::forward(const Tensor& x, const StepContext& ctx) {
  check_input(x);
  activation_forward(kind_, x, y_);
  trained_forward_ = ctx.training();
  return y_;
}

const Tensor& Activation::backward(const Tensor& dy) {
  check_backward(dy, y_);
  activation_backward(kind_, y_, dy, dx_);
  return dx_;
}

}  // namespace normlab
