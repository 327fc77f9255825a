#include "layers/bn_moving_average.h"

#include <cmath>

#include "core/error.h"

namespace normlab {

VarianceUpdate parse_variance_update(const std::string& name) {
  if (name == "biased") return VarianceUpdate::Biased;
  if (name == "unbiased") return VarianceUpdate::Unbiased;
  if (name == "keras2") return VarianceUpdate::Keras2;
  throw Error("unknown moving_variance_update '" + name +
              "': expected \"biased\", \"unbiased\" or \"keras2\"");
}

std::string variance_update_name(VarianceUpdate v) {
  switch (v) {
    case VarianceUpdate::Biased:
      return "biased";
    case VarianceUpdate::Unbiased:
      return "unbiased";
    case VarianceUpdate::Keras2:
      return "keras2";
  }
  return "biased";
}

float variance_correction(VarianceUpdate v, double n, float epsilon) {
  if (v == VarianceUpdate::Biased) return 1.0f;
  // unbiased: n/(n-1), as float(n)/float(n-1) so that a whole batch matches PyTorch's kernel.
  const float fn = static_cast<float>(n);
  const float denominator = v == VarianceUpdate::Unbiased ? fn - 1.0f : fn - (1.0f + epsilon);
  if (!(denominator > 0.0f)) {
    std::string message = "moving_variance_update \"" + variance_update_name(v) +
                          "\" needs a batch of at least 2 rows (it scales by ";
    message += v == VarianceUpdate::Unbiased ? "N/(N-1)" : "N/(N-(1+epsilon))";
    message += "), got ";
    message += n == std::floor(n) ? std::to_string(static_cast<long long>(n))
                                  : "an effective size of " + std::to_string(n);
    throw Error(message);
  }
  return fn / denominator;
}

AverageWeights average_weights(Averaging averaging, float momentum, double t) {
  switch (averaging) {
    case Averaging::Exponential:
      return {momentum, 1.0f - momentum};
    case Averaging::Cumulative:
      return {static_cast<float>(1.0 - 1.0 / t), static_cast<float>(1.0 / t)};
    case Averaging::Debiased: {
      const double m = momentum, weight = 1.0 - std::pow(m, t);  // 1 - m^t
      return {static_cast<float>(m * (1.0 - std::pow(m, t - 1.0)) / weight),
              static_cast<float>((1.0 - m) / weight)};
    }
  }
  return {momentum, 1.0f - momentum};
}

AverageWeights MovingAverage::next_weights(const Tensor& count) const {
  const double t = counts_updates() ? static_cast<double>(count[0]) + 1.0 : 1.0;
  return average_weights(averaging_, momentum_, t);
}

void MovingAverage::blend(Tensor& moving, const Tensor& statistic, AverageWeights a) {
  for (std::size_t j = 0; j < moving.size(); ++j)
    moving[j] = moving[j] * a.keep + statistic[j] * a.take;
}

void MovingAverage::count_one(Tensor& counter) {
  if (counter[0] < 16777216.0f) counter[0] += 1.0f;
}

}  // namespace normlab
