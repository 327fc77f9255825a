/// @file
/// @verbatim
/// The once-per-process probe that chooses the backend products run on (core/gemm_backend.h).
///
/// Check: each backend computes products of every transpose with padded strides, and two rows
/// of each timed product, against gemm_reference (double sums). An entry is correct when
///   |c - c_ref| <= (k + 2) u (|alpha| sum_p |a_ip b_pj| + |beta c0_ij|),  u = 2^-24,
/// the worst-case rounding of any order of float sums (k terms, the scaling, the reference's
/// own rounding); a wrong kernel misses it by orders of magnitude. `error` is the largest
/// ratio of the two sides, so correct means error <= 1.
///
/// Time: the products of the workload-M step's first Dense layer (batch 128, 256 inputs, 512
/// units: x W, x^T dz, dz W^T), each backend on one thread as inside a part of the team, the
/// backends taking turns; the fastest of kRounds rounds counts. The first correct backend (the
/// default) stays unless another is more than kGemmMargin times as fast, so timing noise does not
/// flip the choice.
/// @endverbatim
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/gemm_backend.h"

namespace normlab {

/// How much faster than the default a backend must be to replace it.
inline constexpr double kGemmMargin = 1.15;

/// What the probe found for one backend.
struct GemmMeasure {
  /// GemmBackend::name.
  std::string name;
  /// GemmBackend::library().
  std::string library;
  /// The largest error over the checked entries, in units of its rounding bound.
  double error = 0.0;
  /// error <= 1 on every checked entry.
  bool correct = false;
  /// Single-thread GFLOP/s (2 m n k / time) over the timed products; 0 when not correct.
  double gflops = 0.0;
};

/// The probe's findings, one measure per backend in the order given.
struct GemmProbe {
  /// One per backend probed, in their order.
  std::vector<GemmMeasure> measures;
  /// Index into measures of the backend to run; measures.size() when none is correct.
  std::size_t chosen = 0;
  /// Wall time of the whole probe.
  double milliseconds = 0.0;
  /// The probing thread's CPU time: the probe's cost, apart from waits for a busy core.
  double cpu_milliseconds = 0.0;
};

/// Checks and times each backend (single-threaded OpenBLAS is the caller's concern) and chooses.
GemmProbe probe_gemm(std::span<const GemmBackend> backends);

}  // namespace normlab
