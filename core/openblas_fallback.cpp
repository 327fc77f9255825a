#include "core/openblas_fallback.h"

#include <cblas.h>

#include <cstdio>
#include <cstdlib>

namespace normlab {

std::string openblas_fallback_note(std::string_view core, Isa cpu, const char* coretype,
                                   const GemmSelection& s) {
  const auto core_isa = openblas_core_isa(core);
  if (!core_isa || *core_isa >= cpu) return "";
  std::string note = "note: OpenBLAS runs its " + std::string(core) + " kernels (" +
                     isa_name(*core_isa) + ") on this " + isa_name(cpu) + " CPU";
  if (coretype)
    note += ", as OPENBLAS_CORETYPE=" + std::string(coretype) +
            " in the environment asks (normlab leaves it as it is)";
  // The gap: OpenBLAS against the fastest correct backend the probe measured.
  const GemmMeasure* openblas = nullptr;
  const GemmMeasure* fastest = nullptr;
  for (const GemmMeasure& m : s.probe.measures) {
    if (m.name == "openblas") openblas = &m;
    if (m.correct && (!fastest || m.gflops > fastest->gflops)) fastest = &m;
  }
  char gap[160] = "";
  if (openblas && openblas->correct && fastest && fastest != openblas)
    std::snprintf(gap, sizeof gap, ": %.0f GFLOP/s on one thread against %s's %.0f (%.1fx)",
                  openblas->gflops, fastest->name.c_str(), fastest->gflops,
                  fastest->gflops / openblas->gflops);
  else if (openblas && openblas->correct)
    std::snprintf(gap, sizeof gap, ": %.0f GFLOP/s on one thread", openblas->gflops);
  note += gap;
  const std::string running = s.running().name;
  if (running != "openblas")
    return note + "; products run on " + running + ", which this does not slow down";
  const std::string wanted = openblas_core_for(cpu);
  return note + ". Fix: " +
         (coretype ? "set OPENBLAS_CORETYPE=" + wanted +
                         " or unset it, if this machine's "
                         "OpenBLAS computes correctly with that (normlab's probe checks it), or "
                   : "start normlab with OPENBLAS_CORETYPE=" + wanted +
                         " (OpenBLAS reads it when it loads; normlab's probe checks its "
                         "products), or ") +
         "build normlab with oneDNN (libdnnl-dev) and let the probe choose (--blas auto)";
}

std::string openblas_fallback_note(const GemmSelection& s) {
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  return openblas_fallback_note(openblas_get_corename(), cpu_isa(),
                                coretype && *coretype ? coretype : nullptr, s);
}

}  // namespace normlab
