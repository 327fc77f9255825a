/// @file
/// @verbatim
/// OpenBLAS' fallback: when the kernels OpenBLAS runs are written for a lower vector level than
/// the CPU has (core/cpu_isa.h), one note says so with the gap the probe measured and the fix.
/// A user's OPENBLAS_CORETYPE is never changed: some machines set it because newer kernels
/// compute wrong results on them, and OpenBLAS reads it only when it loads.
/// @endverbatim
#pragma once

#include <string>
#include <string_view>

#include "core/blas.h"
#include "core/cpu_isa.h"

namespace normlab {

/// The note for OpenBLAS core `core` on a CPU of level `cpu`, with OPENBLAS_CORETYPE =
/// `coretype` (null when unset) and the backend selection `s`; empty when the core is not
/// below the CPU (or its name is not known).
std::string openblas_fallback_note(std::string_view core, Isa cpu, const char* coretype,
                                   const GemmSelection& s);

/// The note for this process: openblas_get_corename(), cpu_isa(), the environment.
std::string openblas_fallback_note(const GemmSelection& s);

}  // namespace normlab
