// openblas_fallback_note: said when OpenBLAS' core is below the CPU's vector level, with the
// probe's gap and the fix; a user's OPENBLAS_CORETYPE is named and left as it is.
#include <doctest/doctest.h>

#include <string>

#include "core/openblas_fallback.h"

using namespace normlab;

namespace {

GemmSelection selection(double openblas, double onednn, std::size_t chosen) {
  GemmSelection s;
  s.probe.measures = {{.name = "openblas", .correct = true, .gflops = openblas},
                      {.name = "onednn", .correct = true, .gflops = onednn}};
  s.probe.chosen = chosen;
  return s;
}

}  // namespace

TEST_CASE("No note when the core matches or exceeds the CPU, or is not known") {
  const GemmSelection s = selection(100, 200, 1);
  CHECK(openblas_fallback_note("SkylakeX", Isa::Avx512, nullptr, s).empty());
  CHECK(openblas_fallback_note("Haswell", Isa::Avx2, nullptr, s).empty());
  CHECK(openblas_fallback_note("Zen", Isa::Avx, nullptr, s).empty());
  CHECK(openblas_fallback_note("armv8", Isa::Avx512, nullptr, s).empty());
}

TEST_CASE("Prescott on an AVX-512 CPU: the gap and the fix when OpenBLAS runs") {
  const std::string note =
      openblas_fallback_note("Prescott", Isa::Avx512, nullptr, selection(25, 150, 0));
  CHECK(note ==
        "note: OpenBLAS runs its Prescott kernels (SSE) on this AVX-512 CPU: 25 GFLOP/s on one "
        "thread against onednn's 150 (6.0x). Fix: start normlab with OPENBLAS_CORETYPE=SkylakeX "
        "(OpenBLAS reads it when it loads; normlab's probe checks its products), or build "
        "normlab with oneDNN (libdnnl-dev) and let the probe choose (--blas auto)");
}

TEST_CASE("A user's OPENBLAS_CORETYPE is named; another backend running covers the gap") {
  const std::string note =
      openblas_fallback_note("Haswell", Isa::Avx512, "Haswell", selection(100, 200, 1));
  CHECK(note ==
        "note: OpenBLAS runs its Haswell kernels (AVX2/FMA) on this AVX-512 CPU, as "
        "OPENBLAS_CORETYPE=Haswell in the environment asks (normlab leaves it as it is): 100 "
        "GFLOP/s on one thread against onednn's 200 (2.0x); products run on onednn, which this "
        "does not slow down");
  GemmSelection forced;
  forced.probe.measures = {{.name = "openblas", .correct = true, .gflops = 100}};
  const std::string alone = openblas_fallback_note("Haswell", Isa::Avx512, "Haswell", forced);
  CHECK(alone.find("asks (normlab leaves it as it is): 100 GFLOP/s on one thread. Fix: set "
                   "OPENBLAS_CORETYPE=SkylakeX or unset it") != std::string::npos);
}
