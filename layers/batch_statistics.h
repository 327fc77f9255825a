/// @file
/// @verbatim
/// The statistics arithmetic of BatchNormalization, as plain functions over (N, D) row-major
/// tensors; layers/batch_normalization.h states where each one enters the layer's math.
///
///   group_count             G, the number of ghost batches of a batch of N rows
///   group_moments           per ghost batch g (rows i with i mod G = g), per feature j:
///                             W_g    = sum_{i in g} w_i                  (w_i = 1 unweighted)
///                             mean_g = sum_{i in g} w_i x_i / W_g
///                             var_g  = sum_{i in g} w_i (x_i - mean_g)^2 / W_g
///                             n_g    = (sum w_i)^2 / sum w_i^2            (Kish's effective size;
///                                                                         the row count if w = 1)
///   variance_correction     c(n): 1 (biased), n/(n-1) (unbiased), n/(n-(1+eps)) (keras2)
///   average_weights         (keep, take) of  moving <- moving * keep + statistic * take
///   renorm_bounds           rmin, rmax, dmax of batch renormalization, fixed or scheduled
/// @endverbatim
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/communicator.h"
#include "core/tensor.h"

namespace normlab {

/// The estimator s = var * c(n) that feeds the moving variance.
enum class VarianceUpdate { Biased, Unbiased, Keras2 };

/// "biased", "unbiased" or "keras2"; anything else throws.
VarianceUpdate parse_variance_update(const std::string& name);
/// The config name of an estimator.
std::string variance_update_name(VarianceUpdate v);

/// Every function here throws Error with a message that the layer prefixes with its name.
/// c(n) for a ghost batch of (effective) size n; throws where the estimator is undefined
/// (unbiased needs n > 1, keras2 n > 1 + eps).
float variance_correction(VarianceUpdate v, double n, float epsilon);

/// The number of ghost batches G of a batch of n rows with virtual batch size k (0: none, G = 1).
/// k must divide n unless `merge` is set; then G = max(1, floor(n / k)) and the n mod k
/// remaining rows join the first ghost batches one each (row i is in ghost batch i mod G).
std::size_t group_count(std::size_t n, std::size_t k, bool merge);

/// Moments of the G ghost batches of x. `weights` is null (every row weighs 1) or n weights >= 0
/// whose sum is positive in every ghost batch. Resizes and fills mean and var (G x D),
/// inv_weight (1 / W_g) and size (n_g), all without allocating once grown.
/// `across` (synchronized statistics): x is this process's shard of a batch split over its
/// processes; every per-channel sum above (sum w x, W_g, sum w^2, sum w (x - mean)^2) is summed
/// over them before it is divided, so each process gets the moments of the whole batch.
void group_moments(const Tensor& x, const float* weights, std::size_t groups, Tensor& mean,
                   Tensor& var, std::vector<float>& inv_weight, std::vector<double>& size,
                   Communicator* across = nullptr);

/// Weights of one update moving <- moving * keep + statistic * take, for the t-th update
/// (t = 1 for the first):
///   exponential (momentum m)   keep = m,                          take = 1 - m
///   cumulative (momentum null) keep = 1 - 1/t,                    take = 1/t
///   debiased (zero_debias)     keep = m (1 - m^(t-1)) / (1 - m^t), take = (1 - m) / (1 - m^t)
/// The debiased form is the exponential average of the statistics alone, divided by 1 - m^t, the
/// weight it gives them: sum_k (1 - m) m^(t-k) s_k / (1 - m^t); the initial value drops out.
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

/// Batch renormalization (Ioffe 2017): r = clip(sigma_B / sigma, rmin, rmax) and
/// d = clip((mean_B - mean) / sigma, -dmax, dmax). A bound left out is +infinity (rmin: 1/rmax).
struct RenormClipping {
  ///@{
  /// The bounds of r (rmin, rmax) and of |d| (dmax); left out: +infinity (rmin: 1/rmax).
  std::optional<float> rmax, rmin, dmax;
  ///@}
};
/// The paper's recipe: rmax = 1 and dmax = 0 (plain batch normalization) for the first
/// warmup_steps steps, then both relaxed linearly to reach `rmax` at step rmax_steps and `dmax`
/// at step dmax_steps, constant after. Defaults are the paper's (Sec. 4).
struct RenormSchedule {
  /// Steps of plain batch normalization (r = 1, d = 0).
  std::int64_t warmup_steps = 5000;
  /// The step at which rmax reaches its final value.
  std::int64_t rmax_steps = 40000;
  /// The step at which dmax reaches its final value.
  std::int64_t dmax_steps = 25000;
  /// The final bound of r.
  float rmax = 3.0f;
  /// The final bound of |d|.
  float dmax = 5.0f;
};
/// The bounds in force at one step: r in [rmin, rmax], d in [-dmax, dmax].
struct RenormBounds {
  ///@{
  /// The bounds of r and of |d|.
  float rmin, rmax, dmax;
  ///@}
};
/// The bounds from fixed clipping.
RenormBounds renorm_bounds(const RenormClipping& clipping);
/// The bounds at training step t (t = 0 for the first step):
///   f(t, T) = clamp((t - warmup_steps) / (T - warmup_steps), 0, 1)
///   rmax(t) = 1 + (rmax - 1) f(t, rmax_steps),  rmin(t) = 1 / rmax(t)
///   dmax(t) = dmax f(t, dmax_steps)
RenormBounds renorm_bounds(const RenormSchedule& schedule, std::int64_t t);

}  // namespace normlab
