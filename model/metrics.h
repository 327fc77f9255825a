// Metrics, accumulated over an epoch (reset, update per batch, result), Keras names.
//   binary_accuracy       mean over outputs of [(p > threshold) == (y > 0.5)], threshold 0.5
//                         (0 on logits, the same decision as sigmoid(z) > 0.5)
//   categorical_accuracy  [argmax p == argmax y]
//   sparse_categorical_accuracy  [argmax p == y]
// "accuracy" picks the one that fits the loss, as Keras does. Sample weights weight each row.
#pragma once

#include <memory>
#include <string>

#include "core/tensor.h"
#include "model/losses.h"

namespace normlab {

class Metric {
 public:
  enum class Kind { Binary, Categorical, SparseCategorical };
  Metric(std::string display_name, Kind kind, float threshold);

  const std::string& name() const { return name_; }
  void reset() { correct_ = total_ = 0.0; }
  void update(const Tensor& y_pred, const Tensor& y_true, const float* sample_weight = nullptr);
  float result() const { return total_ > 0.0 ? static_cast<float>(correct_ / total_) : 0.0f; }

 private:
  std::string name_;
  Kind kind_;
  float threshold_;
  double correct_ = 0.0, total_ = 0.0;
};

// "accuracy" / "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy".
Metric make_metric(const std::string& name, const Loss& loss);

}  // namespace normlab
