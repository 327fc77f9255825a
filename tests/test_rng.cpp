// Rng: xoshiro256** seeded by splitmix64, its derived draws, and checkpointable state.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

using namespace normlab;

TEST_CASE("Rng matches the reference xoshiro256** seeded through splitmix64") {
  // Expected words from a transcription of Vigna's reference C code (splitmix64.c,
  // xoshiro256starstar.c); splitmix64(0) starts 0xe220a8397b1dcdaf, its published first value.
  Rng zero(0);
  CHECK(zero.state()[0] == 0xe220a8397b1dcdafULL);
  CHECK(zero.state()[3] == 0xf88bb8a8724c81ecULL);
  CHECK(zero.next_u64() == 0x99ec5f36cb75f2b4ULL);
  CHECK(zero.next_u64() == 0xbf6e1f784956452aULL);
  CHECK(zero.next_u64() == 0x1a5f849d4933e6e0ULL);
  CHECK(zero.next_u64() == 0x6aa594f1262d2d2cULL);
  Rng seeded(42);
  CHECK(seeded.next_u64() == 0x15780b2e0c2ec716ULL);
  CHECK(seeded.next_u64() == 0x6104d9866d113a7eULL);
}

TEST_CASE("Rng::uniform takes the top 53 bits of the next word") {
  Rng a(42), b(42);
  // 0x15780b2e0c2ec716 >> 11, scaled by 2^-53
  CHECK(a.uniform() == static_cast<double>(0x15780b2e0c2ec716ULL >> 11) * 0x1.0p-53);
  b.next_u64();
  const double u = a.uniform(-2.0, 3.0);  // low + (high - low) u, second word
  CHECK(u == doctest::Approx(-2.0 + 5.0 * static_cast<double>(b.next_u64() >> 11) * 0x1.0p-53));
  for (int i = 0; i < 1000; ++i) {
    const double v = a.uniform(-2.0, 3.0);
    CHECK((v >= -2.0 && v < 3.0));
  }
}

TEST_CASE("Rng::normal has mean 0 and variance 1 (Box-Muller pairs)") {
  Rng rng(7);
  const int n = 200000;
  double sum = 0.0, sum_sq = 0.0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    sum += z;
    sum_sq += z * z;
  }
  const double mean = sum / n, var = sum_sq / n - mean * mean;
  // Standard errors: 1/sqrt(n) = 0.0022 for the mean, sqrt(2/n) = 0.0032 for the variance.
  CHECK(std::fabs(mean) < 0.01);
  CHECK(std::fabs(var - 1.0) < 0.015);
}

TEST_CASE("Rng::below is uniform over [0, n) and rejects n = 0") {
  Rng rng(3);
  std::vector<int> counts(6, 0);
  const int draws = 60000;
  for (int i = 0; i < draws; ++i) ++counts.at(rng.below(6));
  // Each count ~ Binomial(60000, 1/6): mean 10000, sd 91.
  for (int c : counts) CHECK(std::abs(c - 10000) < 500);
  CHECK(rng.below(1) == 0);
  CHECK_THROWS_WITH_AS(rng.below(0), doctest::Contains("n must be positive"), Error);
}

TEST_CASE("Rng::shuffle permutes, and the same seed gives the same permutation") {
  std::vector<std::size_t> a(50), b(50);
  std::iota(a.begin(), a.end(), 0);
  b = a;
  Rng r1(11), r2(11);
  r1.shuffle(a);
  r2.shuffle(b);
  CHECK(a == b);
  std::vector<std::size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);
  CHECK(a != identity);
}

TEST_CASE("Rng state round trip continues the same sequence, cached normal included") {
  Rng rng(5);
  rng.normal();  // leaves the second value of the pair cached
  const Rng::State saved = rng.state();
  CHECK(saved[4] == 1);
  std::vector<double> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(rng.normal());

  Rng restored(999);
  restored.set_state(saved);
  for (int i = 0; i < 5; ++i) CHECK(restored.normal() == expected[i]);
  CHECK(restored.state() == rng.state());
}

TEST_CASE("Different seeds give different streams") {
  Rng a(1), b(2);
  CHECK(a.next_u64() != b.next_u64());
}
