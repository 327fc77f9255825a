/// @file
/// @verbatim
/// BatchNormalization part: the renorm correction (batch renormalization, Ioffe 2017; tf.keras
/// 2.x `_renorm_correction_and_moments`) and its schedule. From the (ghost-averaged) batch
/// statistics mean, var and the renorm statistics before this step:
///   sigma_B = sqrt(var + eps)
///   sigma_R = max(renorm_stddev, sqrt(eps))
///   r = clip(sigma_B / sigma_R, rmin, rmax)             rmin left out = 1/rmax
///   d = clip((mean - renorm_mean) / sigma_R, -dmax, dmax)
///   y = gamma * (r * xhat + d) + beta,   r and d constants in the backward pass (stop_gradient):
///   dx = (the batch-statistics dx with g replaced by r g),  dgamma += sum g (r xhat + d)
/// The renorm statistics, updated after r and d are taken, are kept apart (tf.keras' weights):
///   renorm_mean   <- renorm_mean * renorm_momentum + mean * (1 - renorm_momentum)
///   renorm_stddev <- renorm_stddev * renorm_momentum + sigma_B * (1 - renorm_momentum)
/// and the inference statistics follow tf.keras through a moving standard deviation, with the
/// moving-average rule's (keep, take) and s (layers/bn_moving_average.h):
///   moving_stddev <- moving_stddev * keep + sqrt(s + eps) * take
///   moving_variance = max(moving_stddev^2 - eps, 0)
/// renorm_schedule replaces fixed clipping by bounds that depend on the training step t
/// (renorm_step, saved with the model; t = 0 for the first step):
///   f(t, T) = clamp((t - warmup_steps) / (T - warmup_steps), 0, 1)
///   rmax(t) = 1 + (rmax - 1) f(t, rmax_steps),  rmin(t) = 1 / rmax(t),  dmax(t) = dmax f(t,
///   dmax_steps)
/// so plain batch normalization for warmup_steps, then rmax and dmax relaxed linearly.
/// @endverbatim
#pragma once

#include <cstdint>
#include <optional>

#include "core/tensor.h"
#include "layers/bn_moving_average.h"

namespace normlab {

/// Fixed bounds: r = clip(sigma_B / sigma, rmin, rmax), d = clip((mean_B - mean) / sigma,
/// -dmax, dmax). A bound left out is +infinity (rmin: 1/rmax).
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
/// The bounds at training step t (t = 0 for the first step), as the schedule above gives them.
RenormBounds renorm_bounds(const RenormSchedule& schedule, std::int64_t t);

/// The renorm statistics and the moving standard deviation of a renorm layer (1 x D each),
/// owned by the layer.
struct RenormState {
  ///@{
  /// See the file documentation.
  Tensor& moving_stddev;
  Tensor& renorm_mean;
  Tensor& renorm_stddev;
  ///@}
};

/// The correction of a layer built with renorm: its clipping or schedule, momentum and epsilon.
class RenormCorrection {
 public:
  /// The correction of these options.
  RenormCorrection(const RenormClipping& clipping, const std::optional<RenormSchedule>& schedule,
                   float renorm_momentum, float epsilon)
      : clipping_(clipping), schedule_(schedule), momentum_(renorm_momentum), epsilon_(epsilon) {}
  /// The bounds of the step after `steps` steps (renorm_step; unused without a schedule).
  RenormBounds bounds(const Tensor& steps) const;
  /// r and d (1 x D) from the batch's mean and var and the renorm statistics before this step.
  void correct(const Tensor& mean, const Tensor& var, const RenormState& state,
               const RenormBounds& b, Tensor& r, Tensor& d) const;
  /// The renorm statistics from this batch's mean and var, and moving_stddev, moving_variance
  /// from s with the moving-average weights a.
  void update(const Tensor& mean, const Tensor& var, const Tensor& s, AverageWeights a,
              const RenormState& state, Tensor& moving_variance) const;

 private:
  RenormClipping clipping_;
  std::optional<RenormSchedule> schedule_;
  float momentum_, epsilon_;
};

}  // namespace normlab
