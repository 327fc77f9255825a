// The optimizer contract. apply(vars) performs one update of every trainable variable from its
// gradient and counts one iteration. The optimizer keeps its per-variable state (slots: Adam's
// m and v, SGD's velocity) in the order of `vars`, so every call must pass the same variables
// in the same order (Sequential::trainable_variables() does). Slots are created at the first
// call; later calls allocate nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/layer.h"

namespace normlab {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string class_name() const = 0;     // Keras class name: "Adam"
  virtual nlohmann::json get_config() const = 0;  // Keras config: learning_rate, ...

  void apply(const std::vector<Variable>& vars);

  // Steps taken so far (Keras' `iterations`); the next step is iterations() + 1.
  std::int64_t iterations() const { return iterations_; }
  void set_iterations(std::int64_t iterations) { iterations_ = iterations; }
  // Every slot as a named variable ("m/3": Adam's first moment of variable 3), for checkpoints.
  std::vector<Variable> slot_variables();

 protected:
  virtual std::vector<std::string> slot_names() const = 0;
  // Updates one variable; `slots` points at its slot_names().size() tensors; t = iterations()+1.
  virtual void update(const Variable& var, Tensor* slots, std::int64_t t) = 0;

  std::int64_t iterations_ = 0;
  std::vector<Tensor> slots_;  // slot_names().size() tensors per variable, variable-major
};

}  // namespace normlab
