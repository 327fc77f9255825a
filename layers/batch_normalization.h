/// @file
/// @verbatim
/// BatchNormalization over the last axis (per feature j, statistics over the N rows of a batch),
/// Keras' layer (keras/src/layers/normalization/batch_normalization.py). Shapes: x, y, xhat
/// N x D; gamma, beta, the statistics 1 x D.
///
/// Forward, training (Mode::Train, trainable layer)        forward()
///   mean_j = (1/N) sum_i x_ij                             1  batch moments
///   var_j  = (1/N) sum_i (x_ij - mean_j)^2                   (biased, two passes)
///   xhat   = (x - mean) / sqrt(var + eps)                 2  normalize
///   y      = gamma * xhat + beta                             (same pass)
///   moving_mean     <- moving_mean * momentum + mean * (1 - momentum)      3  update
///   moving_variance <- moving_variance * momentum + var * (1 - momentum)
/// Forward, inference (Mode::Infer, or trainable = false as Keras does for fine-tuning):
///   the same normalization with moving_mean and moving_variance; nothing is updated.
/// A batch of one row has var = 0, so xhat = 0 and y = beta (Keras' behaviour).
///
/// Backward, g = dy, sums over rows                       backward()
///   dbeta  += sum g                                       1  sums
///   dgamma += sum g * xhat
///   dx = gamma / (N sqrt(var + eps)) * (N g - sum g - xhat * sum(g * xhat))   2  dx
///   (the statistics depend on x: the full batch-statistics gradient)
///
/// Each option family is a part, chosen once when the layer is built; its header holds its math:
///   layers/bn_batch_moments.h    the moments: plain, ghost batches (virtual_batch_size),
///                                weighted (weighted_statistics), synchronized
///   layers/bn_moving_average.h   the update: exponential, cumulative (momentum null), debiased
///                                (moving_average_debias), and the variance estimator
///                                (moving_variance_update)
///   layers/bn_renorm.h           the renorm correction r, d and its schedule (renorm,
///                                renorm_clipping, renorm_momentum, renorm_schedule)
///   layers/bn_training_policy.h  which statistics normalize and what is updated
///                                (freeze_statistics, use_moving_statistics_in_training,
///                                single_sample_policy)
/// With every option at its default the layer is the plain one above, bit for bit, and has
/// exactly Keras' four weights (gamma, beta, moving_mean, moving_variance).
///
/// Caches: xhat (N x D), the per-ghost-batch 1/sqrt(var + eps) and 1/W_g, the row weights, r
/// and d. Defaults are Keras': momentum 0.99, epsilon 1e-3, gamma 1, beta 0, moving_mean 0,
/// moving_variance 1; renorm_momentum 0.99.
/// @endverbatim
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/layer.h"
#include "layers/bn_batch_moments.h"
#include "layers/bn_moving_average.h"
#include "layers/bn_renorm.h"
#include "layers/bn_training_policy.h"

namespace normlab {

/// The options of BatchNormalization, Keras' argument names and defaults; the parts' headers
/// give the math of each.
struct BatchNormConfig {
  float momentum = 0.99f;  ///< Keras' convention: the weight kept by the moving average
  /// Added to the variance: xhat = (x - mean) / sqrt(var + epsilon).
  float epsilon = 1e-3f;
  /// With beta (false: beta = 0, not trained).
  bool center = true;
  /// With gamma (false: gamma = 1, not trained).
  bool scale = true;
  /// The estimator s = var c(n) that feeds the moving variance.
  VarianceUpdate moving_variance_update = VarianceUpdate::Biased;
  bool cumulative_average = false;  ///< momentum = null: momentum is ignored
  /// Debiased moving averages (TensorFlow's zero_debias).
  bool moving_average_debias = false;
  /// Batch renormalization (Ioffe 2017).
  bool renorm = false;
  /// Fixed bounds of r and d.
  RenormClipping renorm_clipping;
  /// The momentum of renorm_mean and renorm_stddev.
  float renorm_momentum = 0.99f;
  std::optional<RenormSchedule> renorm_schedule;  ///< needs renorm; excludes renorm_clipping
  std::size_t virtual_batch_size = 0;             ///< 0: the whole batch
  bool virtual_batch_size_merge = false;          ///< virtual_batch_size_remainder "merge"
  /// Training changes no statistic; gamma and beta still train.
  bool freeze_statistics = false;
  /// Training normalizes with the moving statistics.
  bool use_moving_statistics_in_training = false;
  /// Batch statistics weighted by the rows' sample weights.
  bool weighted_statistics = false;
  /// Batch statistics over the whole batch split across the step context's processes.
  bool synchronized = false;
  /// What a (ghost) batch of one row does in training.
  SingleSamplePolicy single_sample_policy = SingleSamplePolicy::ZeroVariance;
  ///@{
  /// Initializers by Keras name (layers/initializers.h).
  std::string gamma_initializer = "ones";
  std::string beta_initializer = "zeros";
  std::string moving_mean_initializer = "zeros";
  std::string moving_variance_initializer = "ones";
  ///@}
  /// The layer name; empty: chosen when added to a model.
  std::string name;
};

/// BatchNormalization over the last axis, Keras' semantics, with the options of BatchNormConfig.
class BatchNormalization final : public Layer {
 public:
  /// A layer with these options (Keras' defaults when none are given).
  explicit BatchNormalization(const BatchNormConfig& config = {});

  std::string class_name() const override { return "BatchNormalization"; }
  /// Keras' keys; an option appears only when it is not at its default (as tf.keras writes
  /// renorm and virtual_batch_size), moving_variance_update always.
  nlohmann::json get_config() const override;
  std::size_t output_dim() const override { return input_dim_; }
  const Tensor& forward(const Tensor& x, const StepContext& ctx) override;
  const Tensor& backward(const Tensor& dy) override;
  /// gamma, beta, moving_mean, moving_variance; then, only with their options: moving_stddev,
  /// renorm_mean, renorm_stddev (renorm), num_batches_tracked (momentum null or debias),
  /// renorm_step (renorm_schedule).
  std::vector<Variable> variables() override;

  /// Its options.
  const BatchNormConfig& config() const { return config_; }
  /// Whether a forward in `mode` updates the moving statistics: a training forward of a
  /// trainable layer without freeze_statistics. The one exception, a batch of one row under
  /// single_sample_policy "inference", is known only once the batch is seen: updated_statistics().
  bool updates_statistics(Mode mode) const { return policy_.updates_statistics(mode, trainable_); }
  /// The last forward updated the moving statistics.
  bool updated_statistics() const { return plan_.update; }
  /// The updates so far, t, when the layer counts them (momentum null, moving_average_debias:
  /// num_batches_tracked); empty otherwise.
  std::optional<double> update_count() const;
  /// c(n), the factor of the variance estimator s = var c(n) that feeds moving_variance from
  /// a biased variance over n rows (moving_variance_update); throws, naming the layer, where
  /// it is undefined.
  float variance_estimator(double n) const;
  /// Sets the moving statistics to population ones over n rows (mean and biased variance per
  /// channel): moving_mean = mean, moving_variance = var c(n), and with renorm
  /// moving_stddev = sqrt(var c(n) + eps), the values the layer's own updates converge to.
  /// Counters are left as they are.
  void set_population_statistics(std::span<const double> mean, std::span<const double> variance,
                                 double n);
  ///@{
  /// Statistics of the last training batch (1 x D): mean and biased variance (with ghost
  /// batches, their means over the ghost batches).
  const Tensor& batch_mean() const { return mean_; }
  const Tensor& batch_variance() const { return var_; }
  ///@}
  ///@{
  /// The renorm correction of the last training forward (1 x D) and the bounds it was clipped
  /// to; the bounds for the next step come from current_renorm_bounds().
  const Tensor& renorm_r() const { return r_; }
  const Tensor& renorm_d() const { return d_; }
  RenormBounds current_renorm_bounds() const;
  ///@}

  ///@{
  Tensor gamma, beta;  ///< trainable, 1 x D
  ///@}
  ///@{
  Tensor dgamma, dbeta;  ///< their gradients
  ///@}
  ///@{
  Tensor moving_mean, moving_variance;  ///< non-trainable state, 1 x D
  ///@}
  ///@{
  /// renorm only (1 x D): the inference standard deviation and the renorm statistics
  Tensor moving_stddev, renorm_mean, renorm_stddev;
  ///@}
  /// Counters (1 x 1, float32 as every saved weight; exact up to 2^24 and held there after)
  Tensor num_batches_tracked;  ///< momentum null or moving_average_debias: updates so far
  Tensor renorm_step;          ///< renorm_schedule: training steps so far

 private:
  void build_weights(Rng& rng) override;
  // Moments part: the ghost batches' moments and their means, from the row weights w (empty:
  // unweighted); a batch of one row turns plan_ to the single-row plan.
  void take_moments(const Tensor& x, std::span<const float> w);
  // y = gamma * (x - mean) * inv_std + beta, caching xhat in training; row i uses row
  // (i mod G) of mean and inv_std (G x D); renormalizing, y = gamma * (r xhat + d) + beta.
  void normalize(const Tensor& x, const Tensor& mean, const Tensor& inv_std);
  void normalize_with_moving_statistics(const Tensor& x);
  void update_statistics();
  // The last forward normalized with batch statistics and applied r and d.
  bool renormalizing() const { return plan_.normalize_with_batch && renorm_.has_value(); }
  RenormState renorm_state() { return {moving_stddev, renorm_mean, renorm_stddev}; }

  BatchNormConfig config_;
  TrainingPolicy policy_;  // the parts, chosen from config_
  MovingAverage average_;
  std::optional<RenormCorrection> renorm_;
  StatisticsPlan plan_;                 // what the last forward did
  Communicator* across_ = nullptr;      // synchronized: the processes of the last forward
  bool weighted_ = false;               // it used row weights
  std::size_t groups_ = 1;              // its number of ghost batches
  Tensor mean_, var_;                   // 1 x D, means over ghost batches
  Tensor group_mean_, group_var_;       // G x D
  Tensor inv_std_;                      // G x D: 1/sqrt(var_g + eps), or 1 x D of the moving ones
  Tensor estimate_;                     // 1 x D: s, the statistic of the moving variance
  std::vector<float> inv_weight_;       // G: 1/W_g
  std::vector<double> group_size_;      // G: n_g
  std::vector<float> correction_;       // G: c(n_g)
  std::vector<float> weights_;          // N: the row weights of the last training forward
  Tensor r_, d_;                        // 1 x D
  Tensor sum_g_, sum_g_xhat_;           // G x D, backward scratch
  Tensor xhat_, y_, dx_;                // N x D
  Tensor affine_scale_, affine_shift_;  // 1 x D: gamma (1 without scale), beta (0 without center)
  Tensor gamma_r_;                      // 1 x D, backward: gamma r (r = 1 without renorm)
};

}  // namespace normlab
