#include "core/gemm_probe.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>

#include "core/blas.h"
#include "core/rng.h"

namespace normlab {

namespace {

constexpr int kRounds = 5;

struct Shape {
  bool trans_a, trans_b;
  std::size_t m, n, k;
};

// The products of the workload-M step's first Dense layer (batch 128, 256 inputs, 512 units):
// forward x W, backward x^T dz and dz W^T.
constexpr Shape kTimed[] = {
    {false, false, 128, 512, 256}, {true, false, 256, 512, 128}, {false, true, 128, 256, 512}};

// Operands for one shape, rows padded by `pad`, values in [-1, 1).
struct Operands {
  std::vector<float> a, b, c0;
  GemmArgs args;

  Operands(const Shape& s, std::size_t pad, float alpha, float beta, Rng& rng) {
    const std::size_t a_rows = s.trans_a ? s.k : s.m, a_cols = s.trans_a ? s.m : s.k;
    const std::size_t b_rows = s.trans_b ? s.n : s.k, b_cols = s.trans_b ? s.k : s.n;
    args = {.trans_a = s.trans_a,
            .trans_b = s.trans_b,
            .m = s.m,
            .n = s.n,
            .k = s.k,
            .alpha = alpha,
            .lda = a_cols + pad,
            .ldb = b_cols + pad,
            .beta = beta,
            .ldc = s.n + pad};
    for (auto [v, size] : {std::pair{&a, a_rows * args.lda}, std::pair{&b, b_rows * args.ldb},
                           std::pair{&c0, s.m * args.ldc}}) {
      v->resize(size);
      for (float& x : *v) x = static_cast<float>(rng.uniform(-1.0, 1.0));
    }
    args.a = a.data();
    args.b = b.data();
  }

  // Row i of op(A): row i of A, or its column i when transposed.
  const float* a_row(std::size_t i) const {
    return args.trans_a ? a.data() + i : a.data() + i * args.lda;
  }
};

// The largest error, in units of the bound of the header, of rows [first, last] of `c` (the
// backend's product of `o`, row stride ldc).
double error_of_rows(const Operands& o, const std::vector<float>& c, std::size_t first,
                     std::size_t last) {
  const GemmArgs& g = o.args;
  constexpr double u = 1.0 / (1 << 24);
  double worst = 0.0;
  for (std::size_t i = first; i <= last; ++i) {
    std::vector<float> ref(o.c0.begin() + i * g.ldc, o.c0.begin() + i * g.ldc + g.n);
    GemmArgs row = g;
    row.m = 1;
    row.a = o.a_row(i);
    row.c = ref.data();
    gemm_reference(row);
    for (std::size_t j = 0; j < g.n; ++j) {
      double scale = std::fabs(g.beta * o.c0[i * g.ldc + j]);
      for (std::size_t p = 0; p < g.k; ++p) {
        const float a = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
        const float b = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
        scale += std::fabs(static_cast<double>(g.alpha) * a * b);
      }
      const double bound = (static_cast<double>(g.k) + 2.0) * u * scale;
      const double diff = std::fabs(static_cast<double>(c[i * g.ldc + j]) - ref[j]);
      if (std::isnan(diff)) return std::numeric_limits<double>::infinity();
      worst = std::max(worst, bound > 0.0  ? diff / bound
                              : diff > 0.0 ? std::numeric_limits<double>::infinity()
                                           : 0.0);
    }
  }
  return worst;
}

// The backend's product of `o` into a copy of c0.
std::vector<float> product(const GemmBackend& backend, const Operands& o) {
  std::vector<float> c = o.c0;
  GemmArgs g = o.args;
  g.c = c.data();
  backend.sgemm(g);
  return c;
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

GemmProbe probe_gemm(std::span<const GemmBackend> backends) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_seconds();
  Rng rng(2026);
  // Small products of every transpose, padded strides, alpha and beta not 1 or 0; then the
  // timed shapes as the step runs them (beta 1 for the gradient).
  std::vector<Operands> checked;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      checked.emplace_back(Shape{ta, tb, 37, 29, 53}, 3, 0.75f, 0.5f, rng);
  std::vector<Operands> timed;
  for (const Shape& s : kTimed) timed.emplace_back(s, 0, 1.0f, s.trans_a ? 1.0f : 0.0f, rng);

  GemmProbe probe;
  for (const GemmBackend& backend : backends) {
    GemmMeasure m{.name = backend.name, .library = backend.library()};
    for (const Operands& o : checked)
      m.error = std::max(m.error, error_of_rows(o, product(backend, o), 0, o.args.m - 1));
    // The first run of a timed shape also warms the backend up (code generation, packing).
    for (const Operands& o : timed) {
      const std::vector<float> c = product(backend, o);
      m.error = std::max(
          {m.error, error_of_rows(o, c, 0, 0), error_of_rows(o, c, o.args.m - 1, o.args.m - 1)});
    }
    m.correct = m.error <= 1.0;
    probe.measures.push_back(std::move(m));
  }

  double flops = 0.0;
  for (const Shape& s : kTimed) flops += 2.0 * static_cast<double>(s.m * s.n * s.k);
  std::vector<double> best(backends.size(), std::numeric_limits<double>::infinity());
  std::vector<float> c(
      std::max_element(timed.begin(), timed.end(), [](const Operands& x, const Operands& y) {
        return x.c0.size() < y.c0.size();
      })->c0.size());
  for (int round = 0; round < kRounds; ++round)
    for (std::size_t i = 0; i < backends.size(); ++i) {
      if (!probe.measures[i].correct) continue;
      const auto t0 = std::chrono::steady_clock::now();
      for (const Operands& o : timed) {
        GemmArgs g = o.args;
        g.c = c.data();
        backends[i].sgemm(g);
      }
      best[i] = std::min(best[i], seconds_since(t0));
    }

  probe.chosen = backends.size();
  for (std::size_t i = 0; i < backends.size(); ++i) {
    if (!probe.measures[i].correct) continue;
    probe.measures[i].gflops = flops / best[i] * 1e-9;
    if (probe.chosen == backends.size() ||
        probe.measures[i].gflops > kGemmMargin * probe.measures[probe.chosen].gflops)
      probe.chosen = i;
  }
  probe.milliseconds = seconds_since(start) * 1e3;
  probe.cpu_milliseconds = (thread_cpu_seconds() - cpu_start) * 1e3;
  return probe;
}

}  // namespace normlab
