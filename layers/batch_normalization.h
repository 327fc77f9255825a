/// @file
/// @verbatim
/// BatchNormalization over the last axis (per feature j, statistics over the N rows of a batch),
/// with options for using the global (moving) statistics during training. docs/batchnorm-options.md
/// gives each option's source and default; the arithmetic of the statistics is in
/// layers/batch_statistics.h.
///
/// Plain training forward (Mode::Train, layer trainable, every option at its default):
///   mean_j = (1/N) sum_i x_ij                          batch mean
///   var_j  = (1/N) sum_i (x_ij - mean_j)^2              biased batch variance, two passes
///   xhat   = (x - mean) / sqrt(var + eps)
///   y      = gamma * xhat + beta
///   moving_mean     <- moving_mean * momentum + mean * (1 - momentum)
///   moving_variance <- moving_variance * momentum + s * (1 - momentum)
///       s = var * c(N), moving_variance_update:
///         "biased"   c = 1                 (Keras, TF.js)
///         "unbiased" c = N/(N-1)           (PyTorch)
///         "keras2"   c = N/(N-(1+eps))     (multi-backend Keras 2)
/// Inference forward (Mode::Infer, or a layer with trainable=false, as Keras does for fine-tuning):
///   the same normalization with moving_mean and moving_variance; nothing is updated.
/// Plain backward (training), g = dy, sums over rows:
///   dbeta  += sum g            dgamma += sum g * xhat
///   dx      = gamma / (N sqrt(var + eps)) * (N g - sum g - xhat * sum(g * xhat))
///   (the statistics depend on x: this is the full batch-statistics gradient)
/// Backward when normalized with the moving statistics (constants):
///   dx      = gamma * g / sqrt(moving_variance + eps)
/// A batch of one row has var = 0, so xhat = 0 and y = beta (Keras' behaviour).
///
/// The options, each off by default; with all of them off the layer is the plain one above, bit
/// for bit, and has exactly Keras' four weights (gamma, beta, moving_mean, moving_variance).
///
/// weighted_statistics (row weights w_i, the step context's sample_weight: the fit's
/// sample_weight x class_weight; w = 1 without them), as tf.nn.weighted_moments:
///   W = sum w_i,  mean = sum w_i x_i / W,  var = sum w_i (x_i - mean)^2 / W
///   dx_i = gamma / sqrt(var + eps) * (g_i - (w_i/W) sum g - (w_i/W) xhat_i sum(g * xhat))
///   c(n) of the variance estimator takes Kish's effective size n = W^2 / sum w_i^2.
///
/// virtual_batch_size = k (ghost batch normalization, Hoffer et al. 2017; tf.keras 2.x):
///   G = N/k ghost batches; ghost batch g holds rows i with i mod G = g (tf.keras reshapes the
///   batch to (k, G, D) and takes moments over the first axis). Each is normalized, and
///   differentiated, with its own mean_g, var_g as above. k must divide N, unless
///   virtual_batch_size_remainder is "merge": then G = max(1, floor(N/k)) and the N mod k last
///   rows join the first ghost batches (row i still in ghost batch i mod G).
///   The moving statistics are updated once per step with the means over ghost batches:
///   mean = (1/G) sum_g mean_g,  var = (1/G) sum_g var_g,  s = (1/G) sum_g var_g c(n_g).
///
/// momentum = null (PyTorch's momentum=None) and moving_average_debias (TensorFlow's
/// zero_debias, Caffe): the t-th update (t = num_batches_tracked + 1, saved with the model) is
///   moving <- moving * keep_t + statistic * take_t
///   exponential: keep = momentum;  cumulative (null): keep = 1 - 1/t, take = 1/t
///   debiased: keep = m (1 - m^(t-1)) / (1 - m^t), take = (1 - m) / (1 - m^t), so that after t
///   updates moving = sum_k (1 - m) m^(t-k) s_k / (1 - m^t) (the initializer's value drops out).
///
/// renorm (batch renormalization, Ioffe 2017; tf.keras 2.x `_renorm_correction_and_moments`):
///   sigma_B = sqrt(var + eps)            from the (ghost-averaged) batch statistics
///   sigma_R = max(renorm_stddev, sqrt(eps))
///   r = clip(sigma_B / sigma_R, rmin, rmax)             rmin left out = 1/rmax
///   d = clip((mean - renorm_mean) / sigma_R, -dmax, dmax)
///   y = gamma * (r * xhat + d) + beta,   r and d constants in the backward pass (stop_gradient):
///   dx = (standard dx with g replaced by r g),  dgamma += sum g (r xhat + d),  dbeta += sum g.
///   The renorm statistics, updated after r and d are taken, are kept apart (tf.keras' weights):
///     renorm_mean   <- renorm_mean * renorm_momentum + mean * (1 - renorm_momentum)
///     renorm_stddev <- renorm_stddev * renorm_momentum + sigma_B * (1 - renorm_momentum)
///   and the inference statistics follow tf.keras through a moving standard deviation:
///     moving_mean   <- as above
///     moving_stddev <- moving_stddev * keep + sqrt(s + eps) * take
///     moving_variance = max(moving_stddev^2 - eps, 0)
///   renorm_schedule replaces the fixed clipping by bounds that depend on the training step t
///   (renorm_step, saved with the model): plain BN for warmup_steps, then rmax relaxed linearly
///   from 1 and dmax from 0 (batch_statistics.h: renorm_bounds).
///
/// freeze_statistics and use_moving_statistics_in_training (docs/batchnorm-options.md has the
/// whole table): in a training forward of a trainable layer
///   freeze_statistics                  no statistic changes (moving, renorm, num_batches_tracked);
///                                      gamma and beta still train; renorm_step still counts
///   use_moving_statistics_in_training  normalize with the moving statistics as they were before
///                                      this batch (constants: the moving-statistics backward);
///                                      they are then updated from the batch unless frozen
///
/// synchronized (Keras' name; data-parallel training over P processes, docs/distributed.md):
///   each process holds a shard of n_p rows of the batch of N = sum_p n_p rows, and every sum
///   over rows above is summed over the processes (allreduce) before it is used:
///     forward   mean = sum_p sum_i x_i / N,  var = sum_p sum_i (x_i - mean)^2 / N
///     backward  dx_i = gamma / sqrt(var + eps) * (g_i - (1/N) S_g - xhat_i (1/N) S_gx),
///               S_g = sum_p sum_i g_i,  S_gx = sum_p sum_i g_i xhat_i
///   dgamma and dbeta take this shard's sums only; the fit loop sums gradients over processes.
///   So P processes give the outputs, gradients and moving statistics of one process with the
///   whole batch. Not with virtual_batch_size (ghost batches are taken within one batch).
///   Without it each process normalizes with its shard's statistics (the fit loop then
///   averages the moving statistics over processes).
///
/// single_sample_policy, for a training forward whose (ghost) batch has one row:
///   "zero_variance" var = 0, y = beta (Keras)   "error" throw (PyTorch)
///   "inference" normalize the batch with the moving statistics and update nothing (dlib)
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
#include "layers/batch_statistics.h"

namespace normlab {

/// What a training forward does with a (ghost) batch of one row.
enum class SingleSamplePolicy { ZeroVariance, Error, Inference };

/// "zero_variance", "error" or "inference"; anything else throws.
SingleSamplePolicy parse_single_sample_policy(const std::string& name);
/// The config name of a policy.
std::string single_sample_policy_name(SingleSamplePolicy p);

/// The options of BatchNormalization, Keras' argument names and defaults; the file documentation
/// gives the math of each.
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
  bool updates_statistics(Mode mode) const {
    return mode == Mode::Train && trainable_ && !config_.freeze_statistics;
  }
  /// The last forward updated the moving statistics.
  bool updated_statistics() const { return updated_statistics_; }
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
  bool counts_updates() const {
    return config_.cumulative_average || config_.moving_average_debias;
  }
  void train_forward(const Tensor& x);
  // Rows per ghost batch, n / G; synchronized: summed over the processes.
  double global_rows(std::size_t n);
  void compute_renorm_correction();
  void update_statistics();
  // y = gamma * (x - mean) * inv_std + beta, caching xhat; row i uses row (i mod G) of mean
  // and inv_std (G x D); with renorm_active_, y = gamma * (r xhat + d) + beta.
  void normalize(const Tensor& x, const Tensor& mean, const Tensor& inv_std);
  void normalize_with_moving_statistics(const Tensor& x);

  BatchNormConfig config_;
  bool updated_statistics_ = false;     // the last forward updated the moving statistics
  Communicator* across_ = nullptr;      // synchronized: the processes of the last forward
  bool used_batch_statistics_ = false;  // how the last training forward normalized
  bool renorm_active_ = false;          // it applied r and d
  bool weighted_ = false;               // it used row weights
  std::size_t groups_ = 1;              // its number of ghost batches
  Tensor mean_, var_;                   // 1 x D, means over ghost batches
  Tensor group_mean_, group_var_;       // G x D
  Tensor inv_std_;                      // G x D: 1/sqrt(var_g + eps), or 1 x D of the moving ones
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
