// Seeded generators for the seed document's examples: shapes, labels, moments, reproducibility.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/generators.h"

using namespace normlab;

namespace {

// Mean and (population) standard deviation of x rows [begin, end), all columns pooled.
std::pair<double, double> moments(const Tensor& x, std::size_t begin, std::size_t end) {
  double sum = 0, sum2 = 0;
  for (std::size_t r = begin; r < end; ++r) {
    for (std::size_t c = 0; c < x.cols(); ++c) {
      sum += x(r, c);
      sum2 += static_cast<double>(x(r, c)) * x(r, c);
    }
  }
  const double n = static_cast<double>((end - begin) * x.cols());
  const double mean = sum / n;
  return {mean, std::sqrt(sum2 / n - mean * mean)};
}

}  // namespace

TEST_CASE("make_imbalanced: 1000 rows of class 0 then 100 of class 1, 10 features") {
  const Dataset d = make_imbalanced(1);
  REQUIRE(d.x.rows() == 1100);
  REQUIRE(d.x.cols() == 10);
  REQUIRE(d.y.rows() == 1100);
  REQUIRE(d.y.cols() == 1);
  CHECK(d.sample_weight.empty());
  std::size_t wrong_labels = 0;
  for (std::size_t r = 0; r < 1100; ++r) wrong_labels += d.y(r, 0) != (r < 1000 ? 0.0f : 1.0f);
  CHECK(wrong_labels == 0);

  // Class 0: 10000 draws of N(0, 1), standard error 0.01; class 1: 1000 of N(5, 1), 0.032.
  // Four standard errors either side.
  const auto [mean0, sd0] = moments(d.x, 0, 1000);
  const auto [mean1, sd1] = moments(d.x, 1000, 1100);
  CHECK(std::abs(mean0 - 0.0) < 4 * 0.01);
  CHECK(std::abs(mean1 - 5.0) < 4 * 0.032);
  // The sample sd of n normals has standard error ~ 1 / sqrt(2 n).
  CHECK(std::abs(sd0 - 1.0) < 4 * 0.0071);
  CHECK(std::abs(sd1 - 1.0) < 4 * 0.0224);
}

TEST_CASE("make_imbalanced: same seed same bits, different seed different data") {
  const Dataset a = make_imbalanced(7), b = make_imbalanced(7), c = make_imbalanced(8);
  CHECK(a.x == b.x);
  CHECK(a.y == b.y);
  CHECK_FALSE(a.x == c.x);
  CHECK(a.y == c.y);  // labels do not depend on the seed
}

TEST_CASE("make_regression: shapes, y = relu(x A + 0.1 e) with A ~ N(0, 1/features)") {
  const std::size_t rows = 500;
  const Dataset d = make_regression(rows, 3);
  REQUIRE(d.x.rows() == rows);
  REQUIRE(d.x.cols() == 10);
  REQUIRE(d.y.rows() == rows);
  REQUIRE(d.y.cols() == 64);

  const Tensor a = regression_weights(3, 10, 64);
  REQUIRE(a.rows() == 10);
  REQUIRE(a.cols() == 64);
  // A's entries: 640 draws of N(0, 0.1): sd sqrt(0.1) = 0.316.
  const auto [a_mean, a_sd] = moments(a, 0, 10);
  CHECK(std::abs(a_mean) < 4 * 0.316 / std::sqrt(640.0));
  CHECK(std::abs(a_sd - 0.316) < 4 * 0.316 / std::sqrt(2 * 640.0));
  // x ~ N(0, 1).
  const auto [x_mean, x_sd] = moments(d.x, 0, rows);
  CHECK(std::abs(x_mean) < 4 / std::sqrt(5000.0));
  CHECK(std::abs(x_sd - 1.0) < 4 / std::sqrt(10000.0));

  // Wherever z = x A is clearly positive, y - z is the noise 0.1 e: mean 0, sd 0.1;
  // wherever z is clearly negative, y is 0. Every y is >= 0 (a ReLU output).
  double sum = 0, sum2 = 0;
  std::size_t positive = 0, zeros = 0, negative_y = 0, unclipped = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t t = 0; t < 64; ++t) {
      double z = 0;
      for (std::size_t f = 0; f < 10; ++f) z += static_cast<double>(d.x(r, f)) * a(f, t);
      const double y = d.y(r, t);
      negative_y += y < 0.0;
      zeros += y == 0.0;
      if (z > 1.0) {
        sum += y - z;
        sum2 += (y - z) * (y - z);
        ++positive;
      } else if (z < -1.0) {
        unclipped += y != 0.0;
      }
    }
  }
  CHECK(negative_y == 0);
  CHECK(unclipped == 0);
  REQUIRE(positive > 1000);
  const double noise_mean = sum / positive;
  const double noise_sd = std::sqrt(sum2 / positive - noise_mean * noise_mean);
  CHECK(std::abs(noise_mean) < 4 * 0.1 / std::sqrt(static_cast<double>(positive)));
  CHECK(std::abs(noise_sd - 0.1) < 0.01);
  // z has unit variance and is symmetric, so about half of all targets are clipped to 0.
  CHECK(std::abs(static_cast<double>(zeros) / (rows * 64) - 0.5) < 0.1);
}

TEST_CASE("make_regression: reproducible, seed-dependent, and prefix-stable in rows") {
  const Dataset a = make_regression(100, 11), b = make_regression(100, 11);
  CHECK(a.x == b.x);
  CHECK(a.y == b.y);
  const Dataset c = make_regression(100, 12);
  CHECK_FALSE(a.x == c.x);
  CHECK_FALSE(a.y == c.y);

  // The first 100 rows of 250 are the 100-row dataset.
  const Dataset longer = make_regression(250, 11);
  Tensor prefix_x(100, 10), prefix_y(100, 64);
  std::copy(longer.x.begin(), longer.x.begin() + 100 * 10, prefix_x.begin());
  std::copy(longer.y.begin(), longer.y.begin() + 100 * 64, prefix_y.begin());
  CHECK(prefix_x == a.x);
  CHECK(prefix_y == a.y);

  const Dataset small = make_regression(5, 11, 3, 2);
  CHECK(small.x.cols() == 3);
  CHECK(small.y.cols() == 2);
  CHECK_THROWS_AS(make_regression(0, 1), Error);
  CHECK_THROWS_AS(make_regression(5, 1, 0, 2), Error);
}
