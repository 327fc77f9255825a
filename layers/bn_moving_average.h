/// @file
/// @verbatim
/// BatchNormalization part: the moving-average rule and the variance estimator. The t-th update
/// (t = 1 for the first) of each moving statistic from this batch's statistic is
///   moving <- moving * keep_t + statistic * take_t
///     moving_mean      from the batch mean
///     moving_variance  from s = var c(n), the variance estimator of n rows
///     (moving_variance_update)
///
///   exponential (Keras, momentum m)   keep = m,                              take = 1 - m
///   cumulative  (momentum null;       keep = 1 - 1/t,                        take = 1/t
///                PyTorch momentum=None)
///   debiased    (moving_average_debias; TensorFlow's zero_debias, Caffe)
///                                     keep = m (1 - m^(t-1)) / (1 - m^t),   take = (1 - m) / (1 -
///                                     m^t)
/// The debiased form is the exponential average of the statistics alone, divided by 1 - m^t, the
/// weight it gives them: after t updates moving = sum_k (1 - m) m^(t-k) s_k / (1 - m^t), so the
/// initializer's value drops out. Cumulative and debiased count t in num_batches_tracked (saved
/// with the model; float32, exact up to 2^24, where it stops).
///
///   c(n), moving_variance_update:  "biased"   c = 1                (Keras, TF.js)
///                                  "unbiased" c = n/(n-1)          (PyTorch)
///                                  "keras2"   c = n/(n-(1+eps))    (multi-backend Keras 2)
/// @endverbatim
#pragma once

#include <string>

#include "core/tensor.h"

namespace normlab {

/// The estimator s = var * c(n) that feeds the moving variance.
enum class VarianceUpdate { Biased, Unbiased, Keras2 };

/// "biased", "unbiased" or "keras2"; anything else throws.
VarianceUpdate parse_variance_update(const std::string& name);
/// The config name of an estimator.
std::string variance_update_name(VarianceUpdate v);

/// c(n) for a (ghost) batch of (effective) size n; throws Error, which the layer prefixes with
/// its name, where the estimator is undefined (unbiased needs n > 1, keras2 n > 1 + eps).
float variance_correction(VarianceUpdate v, double n, float epsilon);

/// The weights of one update moving <- moving * keep + statistic * take.
struct AverageWeights {
  ///@{
  /// moving <- moving * keep + statistic * take.
  float keep, take;
  ///@}
};
/// Exponential (momentum), cumulative (momentum null) or debiased (zero_debias) averages.
enum class Averaging { Exponential, Cumulative, Debiased };
/// (keep, take) of the t-th update, as the table above gives them.
AverageWeights average_weights(Averaging averaging, float momentum, double t);

/// The rule a layer was built with: which average, its momentum and the variance estimator.
class MovingAverage {
 public:
  /// The rule of these options.
  MovingAverage(Averaging averaging, float momentum, VarianceUpdate estimator, float epsilon)
      : averaging_(averaging), momentum_(momentum), estimator_(estimator), epsilon_(epsilon) {}
  /// Cumulative and debiased averages count their updates (num_batches_tracked).
  bool counts_updates() const { return averaging_ != Averaging::Exponential; }
  /// (keep, take) of the next update; `count` is num_batches_tracked (1 x 1) when
  /// counts_updates(), else unused.
  AverageWeights next_weights(const Tensor& count) const;
  /// c(n) of this rule's estimator.
  float correction(double n) const { return variance_correction(estimator_, n, epsilon_); }
  /// moving <- moving * keep + statistic * take, per feature (1 x D).
  static void blend(Tensor& moving, const Tensor& statistic, AverageWeights a);
  /// The counter after one more update (held at 2^24).
  static void count_one(Tensor& counter);

 private:
  Averaging averaging_;
  float momentum_;
  VarianceUpdate estimator_;
  float epsilon_;
};

}  // namespace normlab
