// Dataset, Keras' validation_split and check_finite.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "data/dataset.h"

using namespace normlab;

namespace {

// n rows: x(r) = {r, 10 r}, y(r) = {100 r}, weight(r) = r / 2.
Dataset numbered(std::size_t n, bool weighted) {
  Dataset d;
  d.x = Tensor(n, 2);
  d.y = Tensor(n, 1);
  for (std::size_t r = 0; r < n; ++r) {
    d.x(r, 0) = static_cast<float>(r);
    d.x(r, 1) = static_cast<float>(10 * r);
    d.y(r, 0) = static_cast<float>(100 * r);
    if (weighted) d.sample_weight.push_back(static_cast<float>(r) / 2);
  }
  return d;
}

}  // namespace

TEST_CASE("Dataset::size is the number of rows of x") {
  CHECK(numbered(7, false).size() == 7);
  CHECK(Dataset{}.size() == 0);
}

TEST_CASE("Dataset::check_consistent names the mismatch") {
  Dataset d = numbered(4, true);
  CHECK_NOTHROW(d.check_consistent("train"));
  d.y = Tensor(3, 1);
  CHECK_THROWS_WITH_AS(d.check_consistent("train"), doctest::Contains("x has 4 rows"), Error);
  d = numbered(4, true);
  d.sample_weight.pop_back();
  CHECK_THROWS_WITH_AS(d.check_consistent("train"), doctest::Contains("3 sample weights for 4"),
                       Error);
}

TEST_CASE("split_validation takes the LAST rows, split_at = floor(N (1 - fraction))") {
  // N = 10, fraction 0.2: split_at = 8, so rows 0..7 train and rows 8, 9 validate.
  const auto [train, val] = split_validation(numbered(10, true), 0.2);
  REQUIRE(train.size() == 8);
  REQUIRE(val.size() == 2);
  CHECK(train.x(0, 0) == 0);
  CHECK(train.x(7, 1) == 70);
  CHECK(val.x(0, 0) == 8);
  CHECK(val.x(1, 1) == 90);
  CHECK(val.y(0, 0) == 800);
  CHECK(train.y(7, 0) == 700);
  REQUIRE(train.sample_weight.size() == 8);
  REQUIRE(val.sample_weight.size() == 2);
  CHECK(val.sample_weight[0] == 4.0f);
  CHECK(val.sample_weight[1] == 4.5f);
}

TEST_CASE("split_validation rounds exactly as Keras' float64 floor does") {
  // 25 * (1 - 0.56) = 10.999999999999998 in float64, so Keras trains on 10 rows, not 11.
  const auto [train, val] = split_validation(numbered(25, false), 0.56);
  CHECK(train.size() == 10);
  CHECK(val.size() == 15);
  CHECK(val.x(0, 0) == 10);
  CHECK(train.sample_weight.empty());
  CHECK(val.sample_weight.empty());
  // 7 * 0.5 = 3.5 -> 3 training rows.
  CHECK(split_validation(numbered(7, false), 0.5).first.size() == 3);
}

TEST_CASE("split_validation rejects fractions outside (0, 1) and empty sides") {
  const Dataset d = numbered(10, false);
  for (double f : {0.0, 1.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    CHECK_THROWS_WITH_AS(split_validation(d, f), doctest::Contains("must be in (0, 1)"), Error);
  }
  // 10 * (1 - 0.9) = 0.9999999999999998 -> nothing left to train on.
  CHECK_THROWS_WITH_AS(split_validation(d, 0.9), doctest::Contains("leaves 0 for training"), Error);
  // 1 row * 0.5 -> 0 training rows.
  CHECK_THROWS_WITH_AS(split_validation(numbered(1, false), 0.5),
                       doctest::Contains("both must be non-empty"), Error);
  // 1000 rows, fraction 1e-9 -> 999.999999 -> 999 train, 1 validation: fine.
  CHECK(split_validation(numbered(1000, false), 1e-9).second.size() == 1);
  // 1 - 1e-17 == 1 in float64, so all 10 rows would train and none validate.
  CHECK_THROWS_WITH_AS(split_validation(d, 1e-17), doctest::Contains("0 for validation"), Error);
}

TEST_CASE("check_finite names the first NaN or infinity by row and column") {
  Tensor t{{1, 2, 3}, {4, 5, 6}};
  CHECK_NOTHROW(check_finite(t, "x"));
  t(1, 2) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH_AS(check_finite(t, "x"), doctest::Contains("x: +inf at row 1, column 2"),
                       Error);
  t(0, 1) = std::nanf("");
  CHECK_THROWS_WITH_AS(check_finite(t, "predictions"),
                       doctest::Contains("predictions: NaN at row 0, column 1"), Error);
  t(0, 0) = -std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH_AS(check_finite(t, "x"), doctest::Contains("-inf at row 0, column 0"), Error);
}
