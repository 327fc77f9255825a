#include "core/cpu_isa.h"

#include <algorithm>
#include <cctype>

namespace normlab {

Isa cpu_isa() {
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_cpu_supports("avx512f")) return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  if (__builtin_cpu_supports("avx")) return Isa::Avx;
#endif
  return Isa::Sse;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Sse:
      return "SSE";
    case Isa::Avx:
      return "AVX";
    case Isa::Avx2:
      return "AVX2/FMA";
    case Isa::Avx512:
      return "AVX-512";
  }
  return "?";
}

std::optional<Isa> openblas_core_isa(std::string_view core) {
  // The x86 cores of OpenBLAS 0.3.21's DYNAMIC_ARCH build (driver/others/dynamic.c), by the
  // vector level of their sgemm kernels.
  struct Core {
    std::string_view name;
    Isa isa;
  };
  static constexpr Core kCores[] = {{"katmai", Isa::Sse},        {"coppermine", Isa::Sse},
                                    {"northwood", Isa::Sse},     {"prescott", Isa::Sse},
                                    {"banias", Isa::Sse},        {"atom", Isa::Sse},
                                    {"core2", Isa::Sse},         {"penryn", Isa::Sse},
                                    {"dunnington", Isa::Sse},    {"nehalem", Isa::Sse},
                                    {"athlon", Isa::Sse},        {"opteron", Isa::Sse},
                                    {"opteron_sse3", Isa::Sse},  {"barcelona", Isa::Sse},
                                    {"nano", Isa::Sse},          {"bobcat", Isa::Sse},
                                    {"sandybridge", Isa::Avx},   {"bulldozer", Isa::Avx},
                                    {"piledriver", Isa::Avx},    {"haswell", Isa::Avx2},
                                    {"steamroller", Isa::Avx2},  {"excavator", Isa::Avx2},
                                    {"zen", Isa::Avx2},          {"skylakex", Isa::Avx512},
                                    {"cooperlake", Isa::Avx512}, {"sapphirerapids", Isa::Avx512}};
  const auto same = [](std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      return std::tolower(static_cast<unsigned char>(x)) == y;
    });
  };
  for (const Core& c : kCores)
    if (same(core, c.name)) return c.isa;
  return std::nullopt;
}

const char* openblas_core_for(Isa isa) {
  switch (isa) {
    case Isa::Sse:
      return "Prescott";
    case Isa::Avx:
      return "Sandybridge";
    case Isa::Avx2:
      return "Haswell";
    case Isa::Avx512:
      return "SkylakeX";
  }
  return "Prescott";
}

}  // namespace normlab
