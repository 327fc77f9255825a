/// @file
/// @verbatim
/// The vector instruction sets that set a CPU's float throughput, as cpuid reports them, and
/// the one each OpenBLAS kernel family ("core") is written for: OpenBLAS 0.3.21 picks the
/// oldest family (Prescott, SSE3) on CPUs newer than itself, and the products then run several
/// times slower than the hardware allows (docs/performance.md, "OpenBLAS' fallback").
/// @endverbatim
#pragma once

#include <optional>
#include <string_view>

namespace normlab {

/// x86 float vector levels, each holding the ones below it; Avx2 includes FMA.
enum class Isa { Sse, Avx, Avx2, Avx512 };

/// The highest level this CPU has (cpuid; Sse elsewhere than x86).
Isa cpu_isa();
/// "SSE", "AVX", "AVX2/FMA", "AVX-512".
const char* isa_name(Isa isa);
/// The level an OpenBLAS core name (openblas_get_corename(), any case) is written for; none
/// for a name it does not list.
std::optional<Isa> openblas_core_isa(std::string_view core);
/// The OpenBLAS core written for `isa`, the value OPENBLAS_CORETYPE takes for it.
const char* openblas_core_for(Isa isa);

}  // namespace normlab
