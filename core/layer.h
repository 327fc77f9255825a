/// @file
/// @verbatim
/// The Layer contract, written once for every layer.
///
///   forward(x, ctx)   x: N x D_in -> returns y: N x D_out (a buffer the layer owns).
///                     The only writer of the layer's caches. ctx (core/step_context.h) holds
///                     the step's mode, the rows' sample weights, the communicator and the Rng;
///                     Mode::Train uses batch statistics and updates state (moving averages);
///                     Mode::Infer changes nothing. Nothing else reaches a layer between steps.
///   backward(dy)      dy: N x D_out -> returns dx: N x D_in (overwritten) and ADDS (+=) into
///                     every parameter gradient until zero_grad(). Valid only after a
///                     Mode::Train forward.
///
/// Parameters, their gradients and non-trainable state are named members of each layer and
/// are listed by variables() in Keras' weight order (kernel, bias; gamma, beta, moving_mean,
/// moving_variance), which the optimizer, the model files and the summary all use.
/// Buffers grow to the largest batch seen and are then reused: a training step allocates
/// nothing once the first step has run.
/// @endverbatim
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "core/step_context.h"
#include "core/tensor.h"

namespace normlab {

/// One named array of a layer. `grad` is null for non-trainable state (moving statistics,
/// counters). `vector` arrays are saved with shape [cols] (bias, gamma), others [rows, cols].
struct Variable {
  /// Keras weight name within the layer: "kernel", "moving_mean".
  std::string name;
  /// The array itself, owned by the layer.
  Tensor* value = nullptr;
  /// Its gradient, same shape; null for non-trainable state.
  Tensor* grad = nullptr;
  /// Saved with shape [cols] rather than [rows, cols].
  bool vector = true;
  /// The optimizer updates it.
  bool trainable() const { return grad != nullptr; }
};

/// The contract every layer implements: forward, backward and its named variables.
class Layer {
 public:
  virtual ~Layer() = default;

  virtual std::string class_name() const = 0;     ///< Keras class name: "Dense"
  virtual nlohmann::json get_config() const = 0;  ///< Keras config: name, trainable, arguments

  /// Creates the weights for inputs of width input_dim, drawing initial values from rng.
  void build(std::size_t input_dim, Rng& rng);
  /// The width D_out of the layer's output.
  virtual std::size_t output_dim() const = 0;

  /// x: N x D_in -> y: N x D_out, a buffer the layer owns; a training context updates state.
  virtual const Tensor& forward(const Tensor& x, const StepContext& ctx) = 0;
  /// dy: N x D_out -> dx: N x D_in; adds (+=) into every parameter gradient.
  virtual const Tensor& backward(const Tensor& dy) = 0;

  /// Every weight, trainable ones first within a layer as Keras lists them.
  virtual std::vector<Variable> variables() { return {}; }
  /// Sets every parameter gradient to 0.
  void zero_grad();
  /// Trainable counts the variables the optimizer updates (none when the layer is frozen).
  std::size_t count_params(bool trainable);

  /// The layer's unique name in its model ("dense_1").
  const std::string& name() const { return name_; }
  /// Renames the layer.
  void set_name(const std::string& name) { name_ = name; }
  /// False freezes the layer: no gradients, and BatchNormalization runs in inference mode.
  bool trainable() const { return trainable_; }
  /// Freezes (false) or unfreezes the layer.
  void set_trainable(bool trainable) { trainable_ = trainable; }
  /// build() has run.
  bool built() const { return input_dim_ > 0; }
  /// The width D_in of the inputs; 0 before build().
  std::size_t input_dim() const { return input_dim_; }
  /// The first layer's input gradient is never used; Sequential turns it off to save a GEMM.
  void set_input_grad_needed(bool needed) { input_grad_needed_ = needed; }

  /// "layer 'dense_1' (Dense)", the prefix of every error message about this layer.
  std::string where() const;

 protected:
  /// Allocates and initializes the weights once input_dim_ is set.
  virtual void build_weights(Rng& rng) = 0;
  /// Checks x is N x input_dim with N > 0, naming both shapes when it is not.
  void check_input(const Tensor& x) const;
  /// Checks a training forward came before backward and dy has the output's shape.
  void check_backward(const Tensor& dy, const Tensor& y) const;

  /// See name().
  std::string name_;
  /// See trainable().
  bool trainable_ = true;
  /// See input_dim().
  std::size_t input_dim_ = 0;
  /// backward() computes dx; see set_input_grad_needed().
  bool input_grad_needed_ = true;
  bool trained_forward_ = false;  ///< the last forward was Mode::Train: caches are valid
};

}  // namespace normlab
