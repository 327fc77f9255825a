#include "core/blas.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "core/error.h"
#include "core/format.h"
#include "core/openblas_fallback.h"
#include "core/parallel.h"

namespace normlab {

namespace {

using Kernel = void (*)(const GemmArgs&);

struct Choice {
  std::mutex lock;
  std::optional<GemmSelection> selection;
  std::atomic<Kernel> kernel{nullptr};  // the running backend's sgemm, read by every product
};

Choice& choice() {
  static Choice c;
  return c;
}

std::string names_of(std::span<const GemmBackend> backends) {
  std::string names;
  for (const GemmBackend& b : backends) names += std::string(b.name) + ", ";
  return names + "auto";
}

// Under choice().lock.
void select_locked(const std::string& name, const std::string& chosen_by) {
  num_threads();  // the team sets OpenBLAS to one thread, as in the parts the probe stands for
  choice().selection = choose_gemm_backend(gemm_backends(), name, chosen_by);
  choice().kernel.store(choice().selection->backend->sgemm, std::memory_order_release);
}

Kernel kernel() {
  const Kernel k = choice().kernel.load(std::memory_order_acquire);
  if (k) return k;
  gemm_selection();
  return choice().kernel.load(std::memory_order_acquire);
}

}  // namespace

GemmSelection choose_gemm_backend(std::span<const GemmBackend> backends, const std::string& name,
                                  const std::string& chosen_by) {
  std::span<const GemmBackend> probed = backends;
  if (name != "auto") {
    std::size_t i = 0;
    while (i < backends.size() && name != backends[i].name) ++i;
    check(i < backends.size(),
          chosen_by + " names the GEMM backend '" + name +
              "', which this build does not have; expected one of: " + names_of(backends));
    probed = backends.subspan(i, 1);
  }
  GemmProbe probe = probe_gemm(probed);
  if (probe.chosen == probe.measures.size()) {
    std::string found;
    for (const GemmMeasure& m : probe.measures)
      found += "; " + m.name + " (" + m.library + ") is off by " +
               format_float(static_cast<float>(m.error)) + " times the rounding bound";
    throw Error(
        (name == "auto" ? "no GEMM backend computes correct products"
                        : chosen_by + ": the GEMM backend '" + name + "' computes wrong products") +
        found + " (the check of core/gemm_probe.h); choose another of: " + names_of(backends));
  }
  const GemmBackend* chosen = &probed[probe.chosen];
  return GemmSelection{chosen, std::move(probe), chosen_by, name == "auto"};
}

void select_gemm_backend(const std::string& name, const std::string& chosen_by) {
  std::lock_guard guard(choice().lock);
  select_locked(name, chosen_by);
}

GemmSelection gemm_selection() {
  std::lock_guard guard(choice().lock);
  if (!choice().selection) {
    const char* env = std::getenv("NORMLAB_BLAS");
    if (env && *env)
      select_locked(env, "NORMLAB_BLAS");
    else
      select_locked("auto", "the probe");
  }
  return *choice().selection;
}

std::string gemm_summary() {
  const GemmSelection s = gemm_selection();
  const GemmMeasure& run = s.running();
  std::string line = "GEMM: " + run.name + " (" + run.library + "), chosen by " + s.chosen_by + ":";
  char figure[64];
  for (std::size_t i = 0; i < s.probe.measures.size(); ++i) {
    const GemmMeasure& m = s.probe.measures[i];
    if (m.correct)
      std::snprintf(figure, sizeof figure, " %.0f GFLOP/s", m.gflops);
    else
      std::snprintf(figure, sizeof figure, " wrong products");
    line += (i ? ", " : " ") + m.name + figure;
    if (i != s.probe.chosen) line += " (" + m.library + ")";
  }
  std::snprintf(figure, sizeof figure, " on one thread; probe %.0f ms (%.0f ms of CPU)",
                s.probe.milliseconds, s.probe.cpu_milliseconds);
  const std::string note = openblas_fallback_note(s);
  return line + figure + (note.empty() ? "" : "\n" + note);
}

void gemm(const GemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  const Kernel sgemm = kernel();
  // Split by rows of C (rows of A, or its columns when transposed) into parts of at least ~2^17
  // multiply-adds: below that, handing a part to another thread costs more than it saves.
  const std::size_t row_work = g.n * (g.k > 0 ? g.k : 1);
  parallel_for(g.m, ((std::size_t{1} << 17) + row_work - 1) / row_work,
               [&](std::size_t begin, std::size_t end) {
                 GemmArgs part = g;
                 part.m = end - begin;
                 part.a = g.trans_a ? g.a + begin : g.a + begin * g.lda;
                 part.c = g.c + begin * g.ldc;
                 sgemm(part);
               });
}

void gemm_reference(const GemmArgs& g) {
  for (std::size_t i = 0; i < g.m; ++i)
    for (std::size_t j = 0; j < g.n; ++j) {
      double sum = 0.0;
      for (std::size_t p = 0; p < g.k; ++p) {
        const float a = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
        const float b = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
        sum += static_cast<double>(a) * b;
      }
      float& c = g.c[i * g.ldc + j];
      c = static_cast<float>(g.alpha * sum + (g.beta == 0.0f ? 0.0 : g.beta * c));
    }
}

}  // namespace normlab
