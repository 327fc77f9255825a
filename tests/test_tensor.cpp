// Tensor: row-major float32 N x D storage, construction checks, resize without reallocation.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"

using namespace normlab;

TEST_CASE("Tensor stores rows one after another (row-major)") {
  const Tensor t{{1, 2, 3}, {4, 5, 6}};
  CHECK(t.rows() == 2);
  CHECK(t.cols() == 3);
  CHECK(t.size() == 6);
  CHECK_FALSE(t.empty());
  // element (r, c) sits at r * cols + c
  CHECK(t(1, 0) == 4.0f);
  CHECK(t[1 * 3 + 2] == 6.0f);
  CHECK(t.row(1)[1] == 5.0f);
  CHECK(t.row(1) == t.data() + 3);
  CHECK(t.to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(t.shape_string() == "(2, 3)");
  CHECK(shape_string(32, 10) == "(32, 10)");
}

TEST_CASE("Tensor constructors: fill value, from_rows, row_vector, empty") {
  const Tensor filled(2, 2, 0.5f);
  for (float v : filled) CHECK(v == 0.5f);
  CHECK(Tensor(3, 1).to_vector() == std::vector<float>{0, 0, 0});

  const Tensor r = Tensor::from_rows({{1, 2}, {3, 4}, {5, 6}});
  CHECK(r == Tensor{{1, 2}, {3, 4}, {5, 6}});
  const Tensor v = Tensor::row_vector({7, 8, 9});
  CHECK(v.rows() == 1);
  CHECK(v.cols() == 3);
  CHECK(v(0, 2) == 9.0f);

  const Tensor e;
  CHECK(e.empty());
  CHECK(e.shape_string() == "(0, 0)");
  CHECK(Tensor::from_rows({}).empty());
}

TEST_CASE("Tensor rejects rows of unequal length") {
  CHECK_THROWS_WITH_AS((Tensor{{1, 2}, {3}}), doctest::Contains("rows of unequal length (1 vs 2)"),
                       Error);
  CHECK_THROWS_WITH_AS(Tensor::from_rows({{1, 2}, {3, 4}, {5}}),
                       doctest::Contains("row 2 has 1 values, expected 2"), Error);
}

TEST_CASE("Tensor::resize reuses memory: shrinking and regrowing keep the buffer and the rows") {
  Tensor t(4, 3);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(i);
  const float* buffer = t.data();
  t.resize(2, 3);  // the last partial batch of an epoch
  CHECK(t.size() == 6);
  CHECK(t.data() == buffer);
  CHECK(t(1, 2) == 5.0f);  // rows kept when only the row count changes
  t.resize(4, 3);
  CHECK(t.data() == buffer);
  CHECK(t(3, 2) == 11.0f);
  t.resize(2, 6);  // same size, new shape: no allocation
  CHECK(t.data() == buffer);
  CHECK(t.shape_string() == "(2, 6)");
  t.resize(5, 3);  // larger than ever: allocates
  CHECK(t.size() == 15);
}

TEST_CASE("Tensor::fill and equality compare shape and every bit") {
  Tensor a(2, 2);
  a.fill(1.5f);
  CHECK(a == Tensor{{1.5f, 1.5f}, {1.5f, 1.5f}});
  CHECK_FALSE(a == Tensor(1, 4, 1.5f));  // same values, other shape
  Tensor b = a;
  b(1, 1) = std::nextafter(1.5f, 2.0f);
  CHECK_FALSE(a == b);
  CHECK(Tensor(0, 3) == Tensor(0, 3));
  CHECK_FALSE(Tensor(0, 3) == Tensor(3, 0));
}
