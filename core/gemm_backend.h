/// @file
/// @verbatim
/// The libraries a product can run on. Each backend computes one whole product on the calling
/// thread; gemm() (core/blas.h) splits the work over normlab's team and hands each part to the
/// backend chosen once per process (core/gemm_probe.h).
///
///   openblas  cblas_sgemm of OpenBLAS, kept at one thread (always built, the default)
///   onednn    dnnl_sgemm of oneDNN, one OpenMP thread per caller (built when CMake finds it)
/// @endverbatim
#pragma once

#include <span>
#include <string>

namespace normlab {

struct GemmArgs;

/// One library that computes C = alpha op(A) op(B) + beta C.
struct GemmBackend {
  /// The name --blas and NORMLAB_BLAS take: "openblas", "onednn".
  const char* name;
  /// The library, its version and the kernel family it runs, e.g. "OpenBLAS 0.3.21, core Haswell".
  std::string (*library)();
  /// The product on the calling thread alone.
  void (*sgemm)(const GemmArgs& g);
};

/// The backends this build has, the default (OpenBLAS) first.
std::span<const GemmBackend> gemm_backends();

}  // namespace normlab
