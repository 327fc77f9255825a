/// @file
/// @verbatim
/// Losses, Keras 3 semantics. Each computes a per-sample loss l_i from row i of the prediction
/// (N x K) and the target, and the batch loss is Keras' "sum_over_batch_size" reduction:
///   L = (1/N) sum_i w_i l_i          (w_i = 1 without sample weights)
///   dL/dpred_i = (w_i / N) dl_i/dpred_i
///
///   mean_squared_error        l = (1/K) sum_k (p_k - y_k)^2
///   binary_crossentropy       q = clip(p, eps, 1 - eps)
///                             l = -(1/K) sum_k [y_k log q_k + (1 - y_k) log(1 - q_k)]
///                             (the clip passes no gradient where it is active)
///     from_logits=true        l = (1/K) sum_k [max(z,0) - z y + log(1 + e^-|z|)], dl/dz =
///     (sigmoid(z) - y)/K
///   categorical_crossentropy  q = clip(p / sum_k p_k, eps, 1 - eps),  l = -sum_k y_k log q_k
///     from_logits=true        l = -sum_k y_k log softmax(z)_k,  dl/dz = softmax(z) sum_k y_k - y
///   sparse_categorical_crossentropy   the same with y given as one class index per row
/// eps is the clipping bound, Keras' backend epsilon() (keras.config.epsilon(), 1e-7 unless
/// keras.json or keras.config.set_epsilon changes it); the cross-entropies on logits do not clip.
/// @endverbatim
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace normlab {

/// A target value (or row) a loss does not accept, with its place in the targets, so that a
/// caller that knows where the rows came from (a CSV file) can point at the cell.
class TargetError : public Error {
 public:
  /// what(): "<loss>: target at row R, column C <problem>" ("..., row R <problem>" for a row).
  TargetError(const std::string& loss, std::size_t row, std::optional<std::size_t> column,
              const std::string& problem);
  std::size_t row() const { return row_; }  ///< 0-based row of the targets
  /// 0-based column of the targets; empty when the whole row is at fault (a one-hot row).
  std::optional<std::size_t> column() const { return column_; }
  /// The message without the place: "<loss>: target <problem>".
  const std::string& unplaced() const { return unplaced_; }

 private:
  std::size_t row_;
  std::optional<std::size_t> column_;
  std::string unplaced_;
};

/// A loss with Keras' sum_over_batch_size reduction and its gradient.
class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;  ///< Keras name: "binary_crossentropy"
  /// Predictions are logits (no sigmoid or softmax applied).
  bool from_logits() const { return from_logits_; }
  /// The clipping bound eps of probabilities (Keras' epsilon()); unused by MSE and on logits.
  float clip_epsilon() const { return clip_epsilon_; }

  /// Throws unless targets of this shape and these values fit predictions of width `outputs`:
  /// finite numbers; for binary_crossentropy in [0, 1]; for categorical_crossentropy in [0, 1]
  /// with each row summing to 1 (one-hot, or probabilities); for
  /// sparse_categorical_crossentropy one integer class index in [0, outputs) per row. A bad
  /// value or row is a TargetError.
  virtual void check_targets(const Tensor& y_true, std::size_t outputs) const;

  /// The batch loss; sample_weight is null or N weights. Keeps dL/dpred for backward().
  /// Throws as check_targets does when y_true does not fit y_pred.
  float forward(const Tensor& y_pred, const Tensor& y_true, const float* sample_weight = nullptr);
  /// dL/dpred of the last forward (N x K).
  const Tensor& backward() const { return grad_; }

 protected:
  /// A loss on probabilities, or on logits, clipping probabilities to [eps, 1 - eps].
  Loss(bool from_logits, float clip_epsilon)
      : from_logits_(from_logits), clip_epsilon_(clip_epsilon) {}
  /// Writes l_i into loss[i] and dl_i/dpred_i into row i of grad (already N x K).
  virtual void per_sample(const Tensor& y_pred, const Tensor& y_true, float* loss,
                          Tensor& grad) const = 0;

  /// See from_logits().
  bool from_logits_;
  /// See clip_epsilon().
  float clip_epsilon_;
  /// dL/dpred, returned by backward().
  Tensor grad_;
  /// Per-sample losses l_i of the last forward.
  std::vector<float> loss_;
};

/// Keras' backend epsilon() by default: the clipping bound of the cross-entropies.
inline constexpr float kKerasEpsilon = 1e-7f;

/// "mse" / "mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
/// "sparse_categorical_crossentropy"; an unknown name throws, listing the valid ones, and so
/// does a clip_epsilon outside (0, 0.5).
std::unique_ptr<Loss> make_loss(const std::string& name, bool from_logits = false,
                                float clip_epsilon = kKerasEpsilon);

}  // namespace normlab
