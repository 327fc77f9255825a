// The Layer contract, written once for every layer.
//
//   forward(x, mode)  x: N x D_in -> returns y: N x D_out (a buffer the layer owns).
//                     The only writer of the layer's caches. Mode::Train uses batch statistics
//                     and updates state (moving averages); Mode::Infer changes nothing.
//   backward(dy)      dy: N x D_out -> returns dx: N x D_in (overwritten) and ADDS (+=) into
//                     every parameter gradient until zero_grad(). Valid only after a
//                     Mode::Train forward.
//
// Parameters, their gradients and non-trainable state are named members of each layer and
// are listed by variables() in Keras' weight order (kernel, bias; gamma, beta, moving_mean,
// moving_variance), which the optimizer, the model files and the summary all use.
// Buffers grow to the largest batch seen and are then reused: a training step allocates
// nothing once the first step has run.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "core/tensor.h"

namespace normlab {

enum class Mode { Train, Infer };

// One named array of a layer. `grad` is null for non-trainable state (moving statistics,
// counters). `vector` arrays are saved with shape [cols] (bias, gamma), others [rows, cols].
struct Variable {
  std::string name;
  Tensor* value = nullptr;
  Tensor* grad = nullptr;
  bool vector = true;
  bool trainable() const { return grad != nullptr; }
};

class Layer {
 public:
  virtual ~Layer() = default;

  virtual std::string class_name() const = 0;     // Keras class name: "Dense"
  virtual nlohmann::json get_config() const = 0;  // Keras config: name, trainable, arguments

  // Creates the weights for inputs of width input_dim, drawing initial values from rng.
  void build(std::size_t input_dim, Rng& rng);
  virtual std::size_t output_dim() const = 0;

  virtual const Tensor& forward(const Tensor& x, Mode mode) = 0;
  virtual const Tensor& backward(const Tensor& dy) = 0;

  // Every weight, trainable ones first within a layer as Keras lists them.
  virtual std::vector<Variable> variables() { return {}; }
  void zero_grad();
  // Trainable counts the variables the optimizer updates (none when the layer is frozen).
  std::size_t count_params(bool trainable);

  const std::string& name() const { return name_; }
  void set_name(const std::string& name) { name_ = name; }
  bool trainable() const { return trainable_; }
  void set_trainable(bool trainable) { trainable_ = trainable; }
  bool built() const { return input_dim_ > 0; }
  std::size_t input_dim() const { return input_dim_; }
  // The first layer's input gradient is never used; Sequential turns it off to save a GEMM.
  void set_input_grad_needed(bool needed) { input_grad_needed_ = needed; }

  // "layer 'dense_1' (Dense)", the prefix of every error message about this layer.
  std::string where() const;

 protected:
  virtual void build_weights(Rng& rng) = 0;
  // Checks x is N x input_dim with N > 0, naming both shapes when it is not.
  void check_input(const Tensor& x) const;
  // Checks a training forward came before backward and dy has the output's shape.
  void check_backward(const Tensor& dy, const Tensor& y) const;

  std::string name_;
  bool trainable_ = true;
  std::size_t input_dim_ = 0;
  bool input_grad_needed_ = true;
  bool trained_forward_ = false;  // the last forward was Mode::Train: caches are valid
};

}  // namespace normlab
