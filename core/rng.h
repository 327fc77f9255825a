/// @file
/// A seeded random generator shared by initializers, data generators and shuffling.
/// xoshiro256** (Blackman & Vigna) seeded through splitmix64: the same seed gives the same
/// numbers on every platform and compiler, unlike std::normal_distribution. Its whole state is
/// five numbers, so a checkpoint can save it and a resumed run continues the same sequence.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace normlab {

/// xoshiro256** seeded through splitmix64: the same numbers on every platform.
class Rng {
 public:
  /// The generator for `seed`, expanded to four words by splitmix64.
  explicit Rng(std::uint64_t seed = 0);

  /// 64 random bits.
  std::uint64_t next_u64();
  double uniform();                               ///< [0, 1), 53 random bits
  double uniform(double low, double high);        ///< [low, high)
  double normal();                                ///< N(0, 1), Box-Muller
  std::size_t below(std::size_t n);               ///< uniform integer in [0, n), n > 0, unbiased
  void shuffle(std::vector<std::size_t>& items);  ///< Fisher-Yates

  /// The whole state, for checkpoints: four xoshiro words and the cached second normal.
  using State = std::array<std::uint64_t, 6>;
  /// The whole state, to save in a checkpoint.
  State state() const;
  /// Restores a state from state(): the sequence continues from there.
  void set_state(const State& s);

 private:
  std::array<std::uint64_t, 4> s_{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace normlab
