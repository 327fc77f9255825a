#include "layers/batch_normalization.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"
#include "layers/initializers.h"

namespace normlab {

namespace {
// Row kernels over d features. Restrict-qualified parameters let GCC vectorize them without
// run-time overlap checks; each is one pass over its rows.
// xhat = (x - m) s, y = a xhat + b
void normalize_row(std::size_t d, const float* __restrict x, const float* __restrict m,
                   const float* __restrict s, const float* __restrict a, const float* __restrict b,
                   float* __restrict xhat, float* __restrict y) {
  for (std::size_t j = 0; j < d; ++j) {
    const float h = (x[j] - m[j]) * s[j];
    xhat[j] = h;
    y[j] = a[j] * h + b[j];
  }
}

// y = a (x - m) s + b: normalize_row without keeping xhat, for inference
void infer_row(std::size_t d, const float* __restrict x, const float* __restrict m,
               const float* __restrict s, const float* __restrict a, const float* __restrict b,
               float* __restrict y) {
  for (std::size_t j = 0; j < d; ++j) {
    const float h = (x[j] - m[j]) * s[j];
    y[j] = a[j] * h + b[j];
  }
}

// xhat = (x - m) s, y = a (r xhat + dr) + b   (batch renormalization)
void renormalize_row(std::size_t d, const float* __restrict x, const float* __restrict m,
                     const float* __restrict s, const float* __restrict r,
                     const float* __restrict dr, const float* __restrict a,
                     const float* __restrict b, float* __restrict xhat, float* __restrict y) {
  for (std::size_t j = 0; j < d; ++j) {
    const float h = (x[j] - m[j]) * s[j];
    xhat[j] = h;
    y[j] = a[j] * (r[j] * h + dr[j]) + b[j];
  }
}

// dx = gr s g
void scale_row(std::size_t d, const float* __restrict g, const float* __restrict gr,
               const float* __restrict s, float* __restrict dx) {
  for (std::size_t j = 0; j < d; ++j) dx[j] = gr[j] * s[j] * g[j];
}

// dx = gamma_r inv_std g: the statistics are constants (inv_std 1 x D).
void constant_statistics_input_gradient(const Tensor& dy, const Tensor& gamma_r,
                                        const Tensor& inv_std, Tensor& dx) {
  parallel_for_columns(dy.rows(), dy.cols(), [&](std::size_t j, std::size_t e) {
    for (std::size_t i = 0; i < dy.rows(); ++i)
      scale_row(e - j, dy.row(i) + j, gamma_r.data() + j, inv_std.data() + j, dx.row(i) + j);
  });
}
}  // namespace

BatchNormalization::BatchNormalization(const BatchNormConfig& config)
    : config_(config),
      policy_(config.freeze_statistics, config.use_moving_statistics_in_training,
              config.single_sample_policy),
      average_(config.cumulative_average      ? Averaging::Cumulative
               : config.moving_average_debias ? Averaging::Debiased
                                              : Averaging::Exponential,
               config.momentum, config.moving_variance_update, config.epsilon) {
  if (config.renorm)
    renorm_.emplace(config.renorm_clipping, config.renorm_schedule, config.renorm_momentum,
                    config.epsilon);
  name_ = config.name;
  const auto& c = config;
  check(c.momentum >= 0.0f && c.momentum < 1.0f,
        "BatchNormalization: momentum must be in [0, 1), got " + format_float(c.momentum));
  check(c.epsilon > 0.0f,
        "BatchNormalization: epsilon must be > 0, got " + format_float(c.epsilon));
  for (const auto* init : {&c.gamma_initializer, &c.beta_initializer, &c.moving_mean_initializer,
                           &c.moving_variance_initializer})
    check_initializer(*init);
  check(!(c.cumulative_average && c.moving_average_debias),
        "BatchNormalization: moving_average_debias needs a momentum; momentum null is already "
        "an unweighted (unbiased) cumulative average");
  check(c.renorm_momentum >= 0.0f && c.renorm_momentum < 1.0f,
        "BatchNormalization: renorm_momentum must be in [0, 1), got " +
            format_float(c.renorm_momentum));
  check(!(c.synchronized && c.virtual_batch_size),
        "BatchNormalization: synchronized and virtual_batch_size exclude each other (ghost "
        "batches are taken within one process's batch); give one of them");
  const auto& clip = c.renorm_clipping;
  const bool clipped = clip.rmax || clip.rmin || clip.dmax;
  check(c.renorm || (!clipped && !c.renorm_schedule),
        "BatchNormalization: renorm_clipping and renorm_schedule need renorm: true");
  check(!(clipped && c.renorm_schedule),
        "BatchNormalization: give renorm_clipping or renorm_schedule, not both (the schedule "
        "sets rmax and dmax at every step, and rmin = 1/rmax)");
  check(!clip.rmax || *clip.rmax >= 1.0f,
        "BatchNormalization: renorm_clipping.rmax must be >= 1, got " +
            format_float(clip.rmax.value_or(0.0f)));
  check(!clip.rmin || (*clip.rmin >= 0.0f && *clip.rmin <= 1.0f),
        "BatchNormalization: renorm_clipping.rmin must be in [0, 1], got " +
            format_float(clip.rmin.value_or(0.0f)));
  check(!clip.dmax || *clip.dmax >= 0.0f,
        "BatchNormalization: renorm_clipping.dmax must be >= 0, got " +
            format_float(clip.dmax.value_or(0.0f)));
  if (const auto& s = c.renorm_schedule) {
    check(
        s->warmup_steps >= 0 && s->rmax_steps > s->warmup_steps && s->dmax_steps > s->warmup_steps,
        "BatchNormalization: renorm_schedule needs 0 <= warmup_steps < rmax_steps and "
        "warmup_steps < dmax_steps, got warmup_steps " +
            std::to_string(s->warmup_steps) + ", rmax_steps " + std::to_string(s->rmax_steps) +
            ", dmax_steps " + std::to_string(s->dmax_steps));
    check(s->rmax >= 1.0f && s->dmax >= 0.0f,
          "BatchNormalization: renorm_schedule needs rmax >= 1 and dmax >= 0, got rmax " +
              format_float(s->rmax) + ", dmax " + format_float(s->dmax));
  }
}

nlohmann::json BatchNormalization::get_config() const {
  const auto& c = config_;
  nlohmann::json j = {{"name", name_},
                      {"trainable", trainable_},
                      {"axis", -1},
                      {"momentum", c.momentum},
                      {"epsilon", c.epsilon},
                      {"center", c.center},
                      {"scale", c.scale},
                      {"gamma_initializer", c.gamma_initializer},
                      {"beta_initializer", c.beta_initializer},
                      {"moving_mean_initializer", c.moving_mean_initializer},
                      {"moving_variance_initializer", c.moving_variance_initializer},
                      {"moving_variance_update", variance_update_name(c.moving_variance_update)}};
  if (c.cumulative_average) j["momentum"] = nullptr;
  if (c.moving_average_debias) j["moving_average_debias"] = true;
  if (c.renorm) {
    j["renorm"] = true;
    auto& clipping = j["renorm_clipping"] = nlohmann::json::object();
    if (c.renorm_clipping.rmax) clipping["rmax"] = *c.renorm_clipping.rmax;
    if (c.renorm_clipping.rmin) clipping["rmin"] = *c.renorm_clipping.rmin;
    if (c.renorm_clipping.dmax) clipping["dmax"] = *c.renorm_clipping.dmax;
    j["renorm_momentum"] = c.renorm_momentum;
  }
  if (const auto& s = c.renorm_schedule)
    j["renorm_schedule"] = {{"warmup_steps", s->warmup_steps},
                            {"rmax_steps", s->rmax_steps},
                            {"dmax_steps", s->dmax_steps},
                            {"rmax", s->rmax},
                            {"dmax", s->dmax}};
  if (c.virtual_batch_size) j["virtual_batch_size"] = c.virtual_batch_size;
  if (c.virtual_batch_size_merge) j["virtual_batch_size_remainder"] = "merge";
  if (c.freeze_statistics) j["freeze_statistics"] = true;
  if (c.use_moving_statistics_in_training) j["use_moving_statistics_in_training"] = true;
  if (c.weighted_statistics) j["weighted_statistics"] = true;
  if (c.synchronized) j["synchronized"] = true;
  if (c.single_sample_policy != SingleSamplePolicy::ZeroVariance)
    j["single_sample_policy"] = single_sample_policy_name(c.single_sample_policy);
  return j;
}

void BatchNormalization::build_weights(Rng& rng) {
  const std::size_t d = input_dim_;
  gamma = Tensor(1, d);
  beta = Tensor(1, d);
  dgamma = Tensor(1, d);
  dbeta = Tensor(1, d);
  moving_mean = Tensor(1, d);
  moving_variance = Tensor(1, d);
  initialize(config_.gamma_initializer, gamma, d, d, rng);
  initialize(config_.beta_initializer, beta, d, d, rng);
  initialize(config_.moving_mean_initializer, moving_mean, d, d, rng);
  initialize(config_.moving_variance_initializer, moving_variance, d, d, rng);
  if (config_.renorm) {
    // tf.keras: renorm_mean starts as moving_mean, both standard deviations as
    // sqrt(moving_variance).
    moving_stddev = Tensor(1, d);
    for (std::size_t j = 0; j < d; ++j) moving_stddev[j] = std::sqrt(moving_variance[j]);
    renorm_mean = moving_mean;
    renorm_stddev = moving_stddev;
  }
  if (average_.counts_updates()) num_batches_tracked = Tensor(1, 1);
  if (config_.renorm_schedule) renorm_step = Tensor(1, 1);
  mean_ = Tensor(1, d);
  var_ = Tensor(1, d);
  estimate_ = Tensor(1, d);
  inv_std_ = Tensor(1, d);
  r_ = Tensor(1, d, 1.0f);
  d_ = Tensor(1, d, 0.0f);
  sum_g_ = Tensor(1, d);
  sum_g_xhat_ = Tensor(1, d);
}

std::vector<Variable> BatchNormalization::variables() {
  std::vector<Variable> vars;
  if (config_.scale) vars.push_back({"gamma", &gamma, &dgamma});
  if (config_.center) vars.push_back({"beta", &beta, &dbeta});
  vars.push_back({"moving_mean", &moving_mean, nullptr});
  vars.push_back({"moving_variance", &moving_variance, nullptr});
  if (config_.renorm) {
    vars.push_back({"moving_stddev", &moving_stddev, nullptr});
    vars.push_back({"renorm_mean", &renorm_mean, nullptr});
    vars.push_back({"renorm_stddev", &renorm_stddev, nullptr});
  }
  if (average_.counts_updates())
    vars.push_back({"num_batches_tracked", &num_batches_tracked, nullptr});
  if (config_.renorm_schedule) vars.push_back({"renorm_step", &renorm_step, nullptr});
  return vars;
}

std::optional<double> BatchNormalization::update_count() const {
  if (!average_.counts_updates()) return std::nullopt;
  return num_batches_tracked[0];
}

float BatchNormalization::variance_estimator(double n) const {
  try {
    return average_.correction(n);
  } catch (const Error& e) {
    throw Error(where() + ": " + e.what());
  }
}

void BatchNormalization::set_population_statistics(std::span<const double> mean,
                                                   std::span<const double> variance, double n) {
  check(mean.size() == input_dim_ && variance.size() == input_dim_,
        where() + ": population statistics need " + std::to_string(input_dim_) + " channels, got " +
            std::to_string(mean.size()) + " means and " + std::to_string(variance.size()) +
            " variances");
  const float correction = variance_estimator(n);
  for (std::size_t j = 0; j < input_dim_; ++j) {
    const float s = static_cast<float>(variance[j]) * correction;
    moving_mean[j] = static_cast<float>(mean[j]);
    moving_variance[j] = s;
    if (config_.renorm) moving_stddev[j] = std::sqrt(s + config_.epsilon);
  }
}

RenormBounds BatchNormalization::current_renorm_bounds() const {
  return renorm_ ? renorm_->bounds(renorm_step) : renorm_bounds(config_.renorm_clipping);
}

void BatchNormalization::normalize(const Tensor& x, const Tensor& mean, const Tensor& inv_std) {
  const std::size_t n = x.rows(), d = input_dim_, groups = mean.rows();
  if (trained_forward_) xhat_.resize(n, d);  // backward's; inference does not keep it
  y_.resize(n, d);
  // The options, resolved once per feature so that the row loops below vectorize.
  affine_scale_.resize(1, d);
  affine_shift_.resize(1, d);
  for (std::size_t j = 0; j < d; ++j) {
    affine_scale_[j] = config_.scale ? gamma[j] : 1.0f;
    affine_shift_[j] = config_.center ? beta[j] : 0.0f;
  }
  // Split by features [j, e) over the threads: each row kernel runs on its slice of the row.
  parallel_for_columns(n, d, [&](std::size_t j, std::size_t e) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t g = i % groups;
      if (!trained_forward_)  // nothing will read xhat
        infer_row(e - j, x.row(i) + j, mean.row(g) + j, inv_std.row(g) + j,
                  affine_scale_.data() + j, affine_shift_.data() + j, y_.row(i) + j);
      else if (renormalizing())
        renormalize_row(e - j, x.row(i) + j, mean.row(g) + j, inv_std.row(g) + j, r_.data() + j,
                        d_.data() + j, affine_scale_.data() + j, affine_shift_.data() + j,
                        xhat_.row(i) + j, y_.row(i) + j);
      else
        normalize_row(e - j, x.row(i) + j, mean.row(g) + j, inv_std.row(g) + j,
                      affine_scale_.data() + j, affine_shift_.data() + j, xhat_.row(i) + j,
                      y_.row(i) + j);
    }
  });
}

void BatchNormalization::normalize_with_moving_statistics(const Tensor& x) {
  inv_std_.resize(1, input_dim_);
  for (std::size_t j = 0; j < input_dim_; ++j)
    inv_std_[j] = 1.0f / std::sqrt(moving_variance[j] + config_.epsilon);
  normalize(x, moving_mean, inv_std_);
}

const Tensor& BatchNormalization::forward(const Tensor& x, const StepContext& ctx) {
  check_input(x);
  trained_forward_ = ctx.training();
  across_ = config_.synchronized ? ctx.communicator : nullptr;
  plan_ = policy_.plan(ctx.mode, trainable_);
  // 1. mean_g, var_g (one row: plan_ becomes the single-row plan)
  if (plan_.batch_moments) take_moments(x, ctx.sample_weight);
  if (plan_.normalize_with_batch) {
    // 2. xhat = (x - mean_g) / sqrt(var_g + eps), y = gamma xhat + beta (renorm: r, d first)
    inv_std_.resize(groups_, input_dim_);
    for (std::size_t k = 0; k < groups_ * input_dim_; ++k)
      inv_std_[k] = 1.0f / std::sqrt(group_var_[k] + config_.epsilon);
    if (renorm_) renorm_->correct(mean_, var_, renorm_state(), current_renorm_bounds(), r_, d_);
    normalize(x, group_mean_, inv_std_);
  } else {
    normalize_with_moving_statistics(x);  // the values before this batch's update
  }
  // 3. moving <- moving keep + statistic take
  if (plan_.update) update_statistics();
  if (plan_.batch_moments && config_.renorm_schedule) MovingAverage::count_one(renorm_step);
  return y_;
}

void BatchNormalization::take_moments(const Tensor& x, std::span<const float> w) {
  const std::size_t n = x.rows();
  weighted_ = config_.weighted_statistics && !w.empty();
  if (weighted_) {
    if (w.size() != n)
      throw Error(where() + ": got " + std::to_string(w.size()) +
                  " sample weights for a batch of " + std::to_string(n) + " rows");
    weights_.assign(w.begin(), w.end());
  }
  try {
    groups_ = group_count(n, config_.virtual_batch_size, config_.virtual_batch_size_merge);
  } catch (const Error& e) {
    throw Error(where() + ": " + e.what());
  }
  if (policy_.checks_single_rows()) {
    // Rows per ghost batch, n / G; synchronized: summed over the processes.
    double rows = static_cast<double>(n / groups_);
    if (across_) across_->allreduce_sum(&rows, 1);
    if (rows == 1) {
      plan_ = policy_.single_row(where(), config_.virtual_batch_size != 0);
      return;
    }
  }
  try {
    group_moments(x, weighted_ ? weights_.data() : nullptr, groups_, group_mean_, group_var_,
                  inv_weight_, group_size_, across_);
  } catch (const Error& e) {
    throw Error(where() + ": " + e.what());
  }
  ghost_average(group_mean_, group_var_, mean_, var_);
}

void BatchNormalization::update_statistics() {
  const AverageWeights a = average_.next_weights(num_batches_tracked);
  // s = var c(N), or (1/G) sum_g var_g c(n_g)
  correction_.resize(groups_);
  for (std::size_t g = 0; g < groups_; ++g) correction_[g] = variance_estimator(group_size_[g]);
  ghost_estimate(group_var_, correction_, estimate_);
  MovingAverage::blend(moving_mean, mean_, a);
  if (renorm_)
    renorm_->update(mean_, var_, estimate_, a, renorm_state(), moving_variance);
  else
    MovingAverage::blend(moving_variance, estimate_, a);
  if (average_.counts_updates()) MovingAverage::count_one(num_batches_tracked);
}

const Tensor& BatchNormalization::backward(const Tensor& dy) {
  check_backward(dy, y_);
  const std::size_t groups = plan_.normalize_with_batch ? groups_ : 1;
  // 1. dbeta += sum g, dgamma += sum g xhat (renorm: sum g (r xhat + d) = r sum g xhat + d sum g)
  gradient_sums(dy, xhat_, groups, sum_g_, sum_g_xhat_);
  for (std::size_t j = 0; j < input_dim_; ++j) {
    float sg = sum_g_(0, j), sgx = sum_g_xhat_(0, j);
    for (std::size_t g = 1; g < groups; ++g) sg += sum_g_(g, j), sgx += sum_g_xhat_(g, j);
    if (config_.center) dbeta[j] += sg;
    if (config_.scale) dgamma[j] += renormalizing() ? r_[j] * sgx + d_[j] * sg : sgx;
  }
  if (!input_grad_needed_) return dx_;
  // 2. dx = gamma r / sqrt(var + eps) * (g - f sum g - f xhat sum(g xhat)), f = 1/N (r = 1
  //    without renorm); normalized with the moving statistics (constants): gamma / sqrt(...) * g
  gamma_r_.resize(1, input_dim_);
  for (std::size_t j = 0; j < input_dim_; ++j)
    gamma_r_[j] = renormalizing() ? affine_scale_[j] * r_[j] : affine_scale_[j];
  dx_.resize(dy.rows(), input_dim_);
  if (!plan_.normalize_with_batch) {
    constant_statistics_input_gradient(dy, gamma_r_, inv_std_, dx_);
    return dx_;
  }
  if (across_) reduce_gradient_sums(*across_, sum_g_, sum_g_xhat_);
  batch_statistics_input_gradient(dy, xhat_, gamma_r_, inv_std_, sum_g_, sum_g_xhat_,
                                  weighted_ ? weights_.data() : nullptr, inv_weight_, dx_);
  return dx_;
}

}  // namespace normlab
