/// @file
/// @verbatim
/// Metrics, accumulated over an epoch (reset, update per batch, result), Keras names.
///   binary_accuracy       mean over outputs of [(p > threshold) == (y > 0.5)], threshold 0.5
///                         (0 on logits, the same decision as sigmoid(z) > 0.5)
///   categorical_accuracy  [argmax p == argmax y]
///   sparse_categorical_accuracy  [argmax p == y]
/// "accuracy" picks the one that fits the loss, as Keras does. Sample weights weight each row.
/// @endverbatim
#pragma once

#include <array>
#include <memory>
#include <string>

#include "core/tensor.h"
#include "model/losses.h"

namespace normlab {

/// An accuracy metric accumulated over an epoch.
class Metric {
 public:
  /// Which accuracy: of the table above.
  enum class Kind { Binary, Categorical, SparseCategorical };
  /// A metric shown as `display_name`; `threshold` decides binary predictions.
  Metric(std::string display_name, Kind kind, float threshold);

  /// The name shown in logs ("accuracy").
  const std::string& name() const { return name_; }
  /// Starts a new epoch.
  void reset() { correct_ = total_ = 0.0; }
  /// Adds one batch, rows weighted by sample_weight (null: 1 each).
  void update(const Tensor& y_pred, const Tensor& y_true, const float* sample_weight = nullptr);
  /// The weighted fraction of correct rows so far.
  float result() const { return total_ > 0.0 ? static_cast<float>(correct_ / total_) : 0.0f; }

  /// The accumulators (weighted correct rows, weighted rows), for checkpoints.
  using State = std::array<double, 2>;
  /// The accumulators, to save mid-epoch.
  State state() const { return {correct_, total_}; }
  /// Restores accumulators from state().
  void set_state(const State& s) { correct_ = s[0], total_ = s[1]; }

 private:
  std::string name_;
  Kind kind_;
  float threshold_;
  double correct_ = 0.0, total_ = 0.0;
};

/// "accuracy" / "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy".
Metric make_metric(const std::string& name, const Loss& loss);

}  // namespace normlab
