#include "core/layer.h"

#include "core/error.h"

namespace normlab {

void Layer::build(std::size_t input_dim, Rng& rng) {
  check(input_dim > 0, where() + ": input width must be positive, got 0");
  input_dim_ = input_dim;
  build_weights(rng);
}

void Layer::zero_grad() {
  for (auto& v : variables())
    if (v.grad) v.grad->fill(0.0f);
}

std::size_t Layer::count_params(bool trainable) {
  std::size_t count = 0;
  for (auto& v : variables())
    if ((trainable_ && v.trainable()) == trainable) count += v.value->size();
  return count;
}

std::string Layer::where() const {
  return "layer '" + name_ + "' (" + class_name() + ")";
}

// The checks below run every step: their messages are built only when they fail, so that a
// training step allocates nothing.
void Layer::check_input(const Tensor& x) const {
  if (!built()) throw Error(where() + ": used before it was built (add it to a model first)");
  if (x.rows() == 0 || x.cols() != input_dim_)
    throw Error(where() + ": expected input of shape (N, " + std::to_string(input_dim_) +
                ") with N >= 1, got " + x.shape_string());
}

void Layer::check_backward(const Tensor& dy, const Tensor& y) const {
  if (!trained_forward_)
    throw Error(where() + ": backward() called without a training-mode forward()");
  if (dy.rows() != y.rows() || dy.cols() != y.cols())
    throw Error(where() + ": expected output gradient of shape " + y.shape_string() + ", got " +
                dy.shape_string());
}

}  // namespace normlab
