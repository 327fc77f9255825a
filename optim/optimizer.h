/// @file
/// The optimizer contract. apply(vars) performs one update of every trainable variable from its
/// gradient and counts one iteration. The optimizer keeps its per-variable state (slots: Adam's
/// m and v, SGD's velocity) in the order of `vars`, so every call must pass the same variables
/// in the same order (Sequential::trainable_variables() does). Slots are created at the first
/// call; later calls allocate nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/layer.h"

namespace normlab {

/// Updates trainable variables from their gradients, one step per apply().
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string class_name() const = 0;     ///< Keras class name: "Adam"
  virtual nlohmann::json get_config() const = 0;  ///< Keras config: learning_rate, ...

  /// One update of every variable in `vars`, the same ones in the same order every call.
  void apply(const std::vector<Variable>& vars);

  /// Steps taken so far (Keras' `iterations`); the next step is iterations() + 1.
  std::int64_t iterations() const { return iterations_; }
  /// Restores the step count (a resumed checkpoint).
  void set_iterations(std::int64_t iterations) { iterations_ = iterations; }
  /// Every slot as a named variable ("m/3": Adam's first moment of variable 3), for checkpoints;
  /// none before the slots are made.
  std::vector<Variable> slot_variables();
  /// Makes the slots (zero) for `vars` as the first apply() would, unless they exist: a restored
  /// optimizer state is then copied into slot_variables().
  void build_slots(const std::vector<Variable>& vars);

 protected:
  /// The names of the per-variable state tensors ("m", "v").
  virtual std::vector<std::string> slot_names() const = 0;
  /// Updates one variable; `slots` points at its slot_names().size() tensors; t = iterations()+1.
  virtual void update(const Variable& var, Tensor* slots, std::int64_t t) = 0;

  /// See iterations().
  std::int64_t iterations_ = 0;
  std::vector<Tensor> slots_;  ///< slot_names().size() tensors per variable, variable-major
  std::size_t slots_per_variable_ = 0;  ///< slot_names().size(), read once with the slots
};

}  // namespace normlab
