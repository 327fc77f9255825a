#include "data/generators.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace normlab {

namespace {

// A ~ N(0, 1/features), row-major, the first draws of the seed.
Tensor draw_weights(Rng& rng, std::size_t features, std::size_t targets) {
  check(features > 0 && targets > 0,
        "make_regression: features and targets must be positive, got " + std::to_string(features) +
            " and " + std::to_string(targets));
  const double scale = 1.0 / std::sqrt(static_cast<double>(features));
  Tensor a(features, targets);
  for (float& v : a) v = static_cast<float>(scale * rng.normal());
  return a;
}

}  // namespace

Dataset make_imbalanced(std::uint64_t seed) {
  constexpr std::size_t kMajority = 1000, kMinority = 100, kFeatures = 10;
  constexpr double kShift = 5.0;  // "+ 5": the minority class mean
  Rng rng(seed);
  Dataset data;
  data.x = Tensor(kMajority + kMinority, kFeatures);
  data.y = Tensor(kMajority + kMinority, 1);
  for (std::size_t r = 0; r < data.x.rows(); ++r) {
    const bool minority = r >= kMajority;
    float* row = data.x.row(r);
    for (std::size_t c = 0; c < kFeatures; ++c) {
      row[c] = static_cast<float>(rng.normal() + (minority ? kShift : 0.0));
    }
    data.y(r, 0) = minority ? 1.0f : 0.0f;
  }
  return data;
}

Tensor regression_weights(std::uint64_t seed, std::size_t features, std::size_t targets) {
  Rng rng(seed);
  return draw_weights(rng, features, targets);
}

Dataset make_regression(std::size_t rows, std::uint64_t seed, std::size_t features,
                        std::size_t targets) {
  check(rows > 0, "make_regression: rows must be positive, got 0");
  Rng rng(seed);
  const Tensor a = draw_weights(rng, features, targets);
  Dataset data;
  data.x = Tensor(rows, features);
  data.y = Tensor(rows, targets);
  for (std::size_t r = 0; r < rows; ++r) {
    float* x = data.x.row(r);
    for (std::size_t f = 0; f < features; ++f) x[f] = static_cast<float>(rng.normal());
    // y_r = relu(x_r A + 0.1 e_r), accumulated in double in a fixed order: reproducible.
    float* y = data.y.row(r);
    for (std::size_t t = 0; t < targets; ++t) {
      double z = 0.0;
      for (std::size_t f = 0; f < features; ++f) z += static_cast<double>(x[f]) * a(f, t);
      y[t] = static_cast<float>(std::max(0.0, z + 0.1 * rng.normal()));
    }
  }
  return data;
}

}  // namespace normlab
