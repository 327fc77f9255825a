// The CPU's peak float throughput, measured: per vector level cpuid reports (AVX2/FMA, AVX-512),
// a loop of independent fused multiply-adds, enough chains (12) to cover the FMA latency times
// the FMA units, on 1..T threads. GFLOP/s = 2 x lanes x chains x iterations / time; each thread
// runs the loop for ~50 ms and the best of 3 runs counts.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "core/cpu_isa.h"

namespace normlab::bench {

constexpr int kPeakChains = 12;

// Returns a sum of the chains so that the compiler keeps the loop.
__attribute__((target("avx2,fma"))) inline float fma_loop_avx2(long iterations) {
  __m256 acc[kPeakChains];
  for (int c = 0; c < kPeakChains; ++c) acc[c] = _mm256_set1_ps(0.001f * c);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
    for (int c = 0; c < kPeakChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  __m256 s = acc[0];
  for (int c = 1; c < kPeakChains; ++c) s = _mm256_add_ps(s, acc[c]);
  return _mm256_cvtss_f32(s);
}

__attribute__((target("avx512f"))) inline float fma_loop_avx512(long iterations) {
  __m512 acc[kPeakChains];
  for (int c = 0; c < kPeakChains; ++c) acc[c] = _mm512_set1_ps(0.001f * c);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
    for (int c = 0; c < kPeakChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  __m512 s = acc[0];
  for (int c = 1; c < kPeakChains; ++c) s = _mm512_add_ps(s, acc[c]);
  float lanes[16];
  _mm512_storeu_ps(lanes, s);
  return lanes[0];
}

// The levels this CPU has a loop for, lowest first.
inline std::vector<Isa> peak_levels() {
  std::vector<Isa> levels;
  for (Isa isa : {Isa::Avx2, Isa::Avx512})
    if (cpu_isa() >= isa) levels.push_back(isa);
  return levels;
}

// Peak GFLOP/s at level `isa` (Avx2 or Avx512) on `threads` threads.
inline double peak_gflops(Isa isa, int threads) {
  const int lanes = isa == Isa::Avx512 ? 16 : 8;
  const auto loop = isa == Isa::Avx512 ? fma_loop_avx512 : fma_loop_avx2;
  const long iterations = 2'000'000;  // 8-16 x 12 x 2 flops each: ~50 ms at ~100 GFLOP/s
  double best = 0.0;
  for (int run = 0; run < 3; ++run) {
    std::vector<std::thread> team;
    std::vector<float> sink(static_cast<std::size_t>(threads));
    const auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t)
      team.emplace_back([&, t] { sink[static_cast<std::size_t>(t)] = loop(iterations); });
    for (auto& t : team) t.join();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(
        best, 2.0 * lanes * kPeakChains * static_cast<double>(iterations) * threads / s * 1e-9);
    volatile float keep = sink[0];  // the loops' results are used
    (void)keep;
  }
  return best;
}

}  // namespace normlab::bench
