/// @file
/// @verbatim
/// Matrix products. Every product in normlab goes through gemm(), which splits it by rows over
/// normlab's threads (core/parallel.h) and runs each part, single-threaded, on one backend
/// (core/gemm_backend.h: OpenBLAS, oneDNN when built). The backend is chosen once per process:
/// NORMLAB_BLAS or select_gemm_backend() names one, else the probe (core/gemm_probe.h) keeps
/// the fastest correct one. gemm_reference() is the naive triple loop the probe and the tests
/// check against.
///
///   C = alpha * op(A) * op(B) + beta * C,  row-major,
///   op(A) is M x K (A^T when trans_a), op(B) is K x N (B^T when trans_b), C is M x N.
/// @endverbatim
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "core/gemm_probe.h"

namespace normlab {

/// The operands of one product C = alpha op(A) op(B) + beta C, row-major.
struct GemmArgs {
  ///@{
  /// op(A) = A^T, op(B) = B^T.
  bool trans_a = false, trans_b = false;
  ///@}
  ///@{
  /// op(A) is m x k, op(B) is k x n, C is m x n.
  std::size_t m = 0, n = 0, k = 0;
  ///@}
  /// The scale of op(A) op(B).
  float alpha = 1.0f;
  /// A and its row stride (lda >= its column count).
  const float* a = nullptr;
  /// The row stride of A.
  std::size_t lda = 0;
  /// B, with row stride ldb.
  const float* b = nullptr;
  /// The row stride of B.
  std::size_t ldb = 0;
  /// The scale of C before the product is added (0: C is overwritten).
  float beta = 0.0f;
  /// C, with row stride ldc.
  float* c = nullptr;
  /// The row stride of C.
  std::size_t ldc = 0;
};

/// C = alpha op(A) op(B) + beta C on the chosen backend; the first product chooses it when
/// nothing has (gemm_selection()).
void gemm(const GemmArgs& g);
/// The same product as a naive triple loop, the test oracle for gemm().
void gemm_reference(const GemmArgs& g);

/// The backend products run on, and how it was chosen.
struct GemmSelection {
  /// The chosen backend, one of those the choice was made among.
  const GemmBackend* backend = nullptr;
  /// The probe's measures: of every backend when the probe chose, of the named one alone
  /// otherwise.
  GemmProbe probe;
  /// Who chose: "the probe", "NORMLAB_BLAS", "--blas", ...
  std::string chosen_by;
  /// Chosen as "auto": the probe's choice, not a backend someone named.
  bool automatic = false;
  /// The running backend's measure.
  const GemmMeasure& running() const { return probe.measures[probe.chosen]; }
};

/// Chooses among `backends` by name ("auto": the probe's choice among all); `chosen_by` names
/// where the name came from, for messages. Throws Error for an unknown name, a backend that
/// fails the probe's check, or (auto) no correct backend.
GemmSelection choose_gemm_backend(std::span<const GemmBackend> backends, const std::string& name,
                                  const std::string& chosen_by);
/// Runs products on the built backend choose_gemm_backend(gemm_backends(), name, chosen_by)
/// returns.
void select_gemm_backend(const std::string& name, const std::string& chosen_by);
/// The selection, made on first use from NORMLAB_BLAS when set (else "auto").
GemmSelection gemm_selection();
/// The lines for a program's header: the backend, its library, who chose it and what the probe
/// measured, e.g. "GEMM: onednn (oneDNN 2.6.3, avx512 kernels), chosen by the probe: onednn
/// 201 GFLOP/s, openblas 108 GFLOP/s (OpenBLAS 0.3.21, core Haswell) on one thread; probe 62 ms (46
/// ms of CPU)", and on a second line OpenBLAS' fallback note when it has one
/// (core/openblas_fallback.h).
std::string gemm_summary();

}  // namespace normlab
