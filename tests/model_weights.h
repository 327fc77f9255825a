// Every variable of every layer of a model, for tests that compare whole models bit for bit.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "model/sequential.h"

namespace normlab::testing {

// The values of every layer's variables (weights and moving statistics), layer by layer.
inline std::vector<Tensor> all_weights(Sequential& model) {
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    for (const auto& v : model.layer_variables(i)) out.push_back(*v.value);
  return out;
}

}  // namespace normlab::testing
