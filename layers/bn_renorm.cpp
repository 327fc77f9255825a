#include "layers/bn_renorm.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace normlab {

RenormBounds renorm_bounds(const RenormClipping& clipping) {
  const float inf = std::numeric_limits<float>::infinity();
  const float rmax = clipping.rmax.value_or(inf);
  return {clipping.rmin.value_or(1.0f / rmax), rmax, clipping.dmax.value_or(inf)};
}

RenormBounds renorm_bounds(const RenormSchedule& s, std::int64_t t) {
  const auto progress = [&](std::int64_t end) {
    const double f =
        static_cast<double>(t - s.warmup_steps) / static_cast<double>(end - s.warmup_steps);
    return std::clamp(f, 0.0, 1.0);
  };
  const double rmax = 1.0 + (s.rmax - 1.0) * progress(s.rmax_steps);
  return {static_cast<float>(1.0 / rmax), static_cast<float>(rmax),
          static_cast<float>(s.dmax * progress(s.dmax_steps))};
}

RenormBounds RenormCorrection::bounds(const Tensor& steps) const {
  if (schedule_)
    return renorm_bounds(*schedule_, steps.empty() ? 0 : static_cast<std::int64_t>(steps[0]));
  return renorm_bounds(clipping_);
}

void RenormCorrection::correct(const Tensor& mean, const Tensor& var, const RenormState& state,
                               const RenormBounds& b, Tensor& r, Tensor& d) const {
  const float min_stddev = std::sqrt(epsilon_);
  for (std::size_t j = 0; j < mean.size(); ++j) {
    const float sigma_r = std::max(state.renorm_stddev[j], min_stddev);
    const float r_j = std::sqrt(var[j] + epsilon_) / sigma_r;
    const float d_j = (mean[j] - state.renorm_mean[j]) / sigma_r;
    r[j] = std::min(std::max(r_j, b.rmin), b.rmax);
    d[j] = std::min(std::max(d_j, -b.dmax), b.dmax);
  }
}

void RenormCorrection::update(const Tensor& mean, const Tensor& var, const Tensor& s,
                              AverageWeights a, const RenormState& state,
                              Tensor& moving_variance) const {
  const float rm = momentum_;
  for (std::size_t j = 0; j < mean.size(); ++j) {
    Tensor& stddev = state.moving_stddev;
    stddev[j] = stddev[j] * a.keep + std::sqrt(s[j] + epsilon_) * a.take;
    moving_variance[j] = std::max(stddev[j] * stddev[j] - epsilon_, 0.0f);
    state.renorm_mean[j] = state.renorm_mean[j] * rm + mean[j] * (1.0f - rm);
    state.renorm_stddev[j] =
        state.renorm_stddev[j] * rm + std::sqrt(var[j] + epsilon_) * (1.0f - rm);
  }
}

}  // namespace normlab
