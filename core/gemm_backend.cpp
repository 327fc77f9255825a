#include "core/gemm_backend.h"

#include <cblas.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "core/blas.h"

#if NORMLAB_ONEDNN
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#endif

namespace normlab {

namespace {

std::string openblas_library() {
  // openblas_get_config() starts with "OpenBLAS <version>"; the core is the kernel family its
  // runtime dispatch (or OPENBLAS_CORETYPE) picked.
  std::string config = openblas_get_config();
  const std::size_t version_end = config.find(' ', config.find(' ') + 1);
  return config.substr(0, version_end) + ", core " + openblas_get_corename();
}

// The team keeps OpenBLAS at one thread (core/parallel.h).
void openblas_sgemm(const GemmArgs& g) {
  cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans,
              g.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(g.m), static_cast<int>(g.n),
              static_cast<int>(g.k), g.alpha, g.a, static_cast<int>(g.lda), g.b,
              static_cast<int>(g.ldb), g.beta, g.c, static_cast<int>(g.ldc));
}

#if NORMLAB_ONEDNN
std::string onednn_library() {
  const dnnl_version_t* v = dnnl_version();
  // The ISA values are bit sets, each holding the ones below it.
  struct Isa {
    dnnl_cpu_isa_t bits;
    const char* name;
  };
  static constexpr Isa kIsas[] = {{dnnl_cpu_isa_avx512_core_amx, "amx"},
                                  {dnnl_cpu_isa_avx512_core, "avx512"},
                                  {dnnl_cpu_isa_avx2, "avx2"},
                                  {dnnl_cpu_isa_avx, "avx"}};
  const unsigned isa = dnnl_get_effective_cpu_isa();
  const char* family = "sse41";
  for (const Isa& i : kIsas)
    if ((isa & i.bits) == static_cast<unsigned>(i.bits)) {
      family = i.name;
      break;
    }
  char text[96];
  std::snprintf(text, sizeof text, "oneDNN %d.%d.%d, %s kernels", v->major, v->minor, v->patch,
                family);
  return text;
}

// Debian's libdnnl runs under OpenMP: a product asks omp_get_max_threads() of its calling
// thread, and every thread that is not itself an OpenMP thread would start a team of its own,
// one per core. normlab's team already splits the product, so each caller asks for one thread:
// no second pool polling the cores.
void onednn_sgemm(const GemmArgs& g) {
  thread_local const bool one_thread = (omp_set_num_threads(1), true);
  (void)one_thread;
  // With k = 0, dnnl_sgemm leaves C as it is; BLAS scales it by beta (0: overwrites with zeros).
  if (g.k == 0) {
    for (std::size_t i = 0; i < g.m; ++i)
      for (float* c = g.c + i * g.ldc; c != g.c + i * g.ldc + g.n; ++c)
        *c = g.beta == 0.0f ? 0.0f : g.beta * *c;
    return;
  }
  const dnnl_status_t status =
      dnnl_sgemm(g.trans_a ? 'T' : 'N', g.trans_b ? 'T' : 'N', static_cast<dnnl_dim_t>(g.m),
                 static_cast<dnnl_dim_t>(g.n), static_cast<dnnl_dim_t>(g.k), g.alpha, g.a,
                 static_cast<dnnl_dim_t>(g.lda), g.b, static_cast<dnnl_dim_t>(g.ldb), g.beta, g.c,
                 static_cast<dnnl_dim_t>(g.ldc));
  // The arguments are valid by construction (GemmArgs' strides cover its shapes), and a part of
  // the team cannot throw: a refusal is a broken library.
  if (status != dnnl_success) {
    std::fprintf(stderr, "normlab: dnnl_sgemm refused a product (status %d)\n",
                 static_cast<int>(status));
    std::abort();
  }
}
#endif

constexpr std::array kBackends = {
    GemmBackend{"openblas", openblas_library, openblas_sgemm},
#if NORMLAB_ONEDNN
    GemmBackend{"onednn", onednn_library, onednn_sgemm},
#endif
};

}  // namespace

std::span<const GemmBackend> gemm_backends() {
  return kBackends;
}

}  // namespace normlab
