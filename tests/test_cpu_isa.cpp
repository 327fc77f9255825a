// cpu_isa: the vector level cpuid reports, and the level of each OpenBLAS core name
// (OpenBLAS 0.3.21, driver/others/dynamic.c and kernel/x86_64/KERNEL.<core>).
#include <doctest/doctest.h>

#include <string>

#include "core/cpu_isa.h"

using namespace normlab;

TEST_CASE("cpu_isa agrees with the compiler's own cpuid checks") {
#if defined(__x86_64__)
  const Isa isa = cpu_isa();
  CHECK((isa == Isa::Avx512) == static_cast<bool>(__builtin_cpu_supports("avx512f")));
  if (!__builtin_cpu_supports("avx512f"))
    CHECK((isa == Isa::Avx2) == (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")));
#endif
  CHECK(std::string(isa_name(Isa::Avx512)) == "AVX-512");
}

TEST_CASE("openblas_core_isa: each core name by the level of its kernels, any case") {
  CHECK(openblas_core_isa("Prescott") == Isa::Sse);
  CHECK(openblas_core_isa("Nehalem") == Isa::Sse);
  CHECK(openblas_core_isa("Sandybridge") == Isa::Avx);
  CHECK(openblas_core_isa("Haswell") == Isa::Avx2);
  CHECK(openblas_core_isa("ZEN") == Isa::Avx2);
  CHECK(openblas_core_isa("SkylakeX") == Isa::Avx512);
  CHECK(openblas_core_isa("cooperlake") == Isa::Avx512);
  CHECK_FALSE(openblas_core_isa("armv8").has_value());
  CHECK_FALSE(openblas_core_isa("").has_value());
  for (Isa isa : {Isa::Sse, Isa::Avx, Isa::Avx2, Isa::Avx512})
    CHECK(openblas_core_isa(openblas_core_for(isa)) == isa);
}
