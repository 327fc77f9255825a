// format_float: the text messages and logs show for a float.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/format.h"
#include "layers/batch_normalization.h"
#include "optim/adam.h"

using namespace normlab;

TEST_CASE("format_float: the shortest text that reads back to the same float") {
  CHECK(format_float(0.1f) == "0.1");
  CHECK(format_float(1e-7f) == "1e-07");
  CHECK(format_float(-2.5f) == "-2.5");
  CHECK(format_float(2.0f) == "2");
  CHECK(format_float(std::numeric_limits<float>::quiet_NaN()) == "nan");
  CHECK(format_float(-std::numeric_limits<float>::infinity()) == "-inf");
  for (const float v : {0.31162894f, 1.1754944e-38f, 3.4028235e38f, -1e-9f})
    CHECK(std::stof(format_float(v)) == v);
}

TEST_CASE("messages show the value given, not a rounded one") {
  // std::to_string would print -1e-9 as "-0.000000", a value that looks valid
  CHECK_THROWS_WITH_AS(Adam({.epsilon = -1e-9f}), "Adam: epsilon must be > 0, got -1e-09", Error);
  CHECK_THROWS_WITH_AS(BatchNormalization({.epsilon = -1e-7f}),
                       "BatchNormalization: epsilon must be > 0, got -1e-07", Error);
}
