// The physical floor of a workload's step, as ../shared/bench/peers/README.md defines it, for
// timing beside normlab's step in one process (normlab_bench --paired): per Dense layer the
// GEMMs Y = X W, dW = X^T dY and (all but the first layer) dX = dY W^T through one product
// kernel (cblas_sgemm on OpenBLAS' threads unless told otherwise, e.g. normlab::gemm or one
// backend's single-thread sgemm), row-major, W stored in x out, on buffers of fixed values in
// [-1, 1); optionally followed by
// one fused Adam pass (lr 1e-3, 0.9, 0.999, eps 1e-7) over all the workload's parameters.
#pragma once

#include <cblas.h>

#include <cmath>
#include <vector>

#include "bench/workloads.h"

namespace normlab::bench {

// cblas_sgemm on OpenBLAS' own threads: the floor as the peer benchmarks define it.
inline void openblas_threads_gemm(const GemmArgs& g) {
  cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans,
              g.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(g.m), static_cast<int>(g.n),
              static_cast<int>(g.k), g.alpha, g.a, static_cast<int>(g.lda), g.b,
              static_cast<int>(g.ldb), g.beta, g.c, static_cast<int>(g.ldc));
}

class FloorStep {
 public:
  using Kernel = void (*)(const GemmArgs&);

  explicit FloorStep(const Workload& w, Kernel gemm = openblas_threads_gemm)
      : batch_(w.batch), gemm_(gemm) {
    std::size_t in = w.input;
    for (std::size_t l = 0; l <= w.hidden.size(); ++l) {
      const std::size_t out = l < w.hidden.size() ? w.hidden[l] : w.output;
      // the bias, and BatchNormalization's gamma and beta after a hidden layer
      const std::size_t small = out * (l < w.hidden.size() ? 3 : 1);
      layers_.push_back({in, out, values(w.batch * in), values(in * out),
                         std::vector<float>(w.batch * out), values(w.batch * out),
                         std::vector<float>(in * out), std::vector<float>(w.batch * in),
                         values(small), values(small)});
      in = out;
    }
    for (auto& l : layers_) {
      adam_.push_back({l.w.data(), l.dw.data(), l.w.size()});
      adam_.push_back({l.small.data(), l.dsmall.data(), l.small.size()});
    }
    for (auto& a : adam_) {
      a.m.assign(a.n, 0.0f);
      a.v.assign(a.n, 0.0f);
    }
  }

  // adam_ points into layers_: not to be copied.
  FloorStep(const FloorStep&) = delete;
  FloorStep& operator=(const FloorStep&) = delete;

  void run(bool with_adam) {
    const std::size_t b = batch_;
    for (auto& l : layers_)
      gemm_({.m = b,
             .n = l.out,
             .k = l.in,
             .a = l.x.data(),
             .lda = l.in,
             .b = l.w.data(),
             .ldb = l.out,
             .c = l.y.data(),
             .ldc = l.out});
    for (std::size_t k = layers_.size(); k-- > 0;) {
      auto& l = layers_[k];
      gemm_({.trans_a = true,
             .m = l.in,
             .n = l.out,
             .k = b,
             .a = l.x.data(),
             .lda = l.in,
             .b = l.dy.data(),
             .ldb = l.out,
             .c = l.dw.data(),
             .ldc = l.out});
      if (k > 0)
        gemm_({.trans_b = true,
               .m = b,
               .n = l.in,
               .k = l.out,
               .a = l.dy.data(),
               .lda = l.out,
               .b = l.w.data(),
               .ldb = l.out,
               .c = l.dx.data(),
               .ldc = l.in});
    }
    if (!with_adam) return;
    ++t_;
    const float alpha =
        static_cast<float>(1e-3 * std::sqrt(1.0 - std::pow(0.999, t_)) / (1.0 - std::pow(0.9, t_)));
    for (auto& a : adam_) adam(a.n, alpha, a.p, a.g, a.m.data(), a.v.data());
  }

 private:
  struct Layer {
    std::size_t in, out;
    std::vector<float> x, w, y, dy, dw, dx, small, dsmall;
  };
  struct Slots {
    float* p;
    const float* g;
    std::size_t n;
    std::vector<float> m, v;
  };

  // The floor program's fill: xorshift values in [-1, 1), no denormals.
  std::vector<float> values(std::size_t n) {
    std::vector<float> v(n);
    for (float& x : v) {
      seed_ ^= seed_ << 13;
      seed_ ^= seed_ >> 17;
      seed_ ^= seed_ << 5;
      x = static_cast<float>(static_cast<double>(seed_ & 0xFFFFFF) / 0x800000 - 1.0);
    }
    return v;
  }

  // Compiled for AVX2 + FMA where the CPU has them, as the floor program (-march=native) is.
  __attribute__((target_clones("arch=x86-64-v3", "default"))) static void adam(
      std::size_t n, float alpha, float* __restrict p, const float* __restrict g,
      float* __restrict m, float* __restrict v) {
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i];
      const float mi = 0.9f * m[i] + 0.1f * gi;
      const float vi = 0.999f * v[i] + 0.001f * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] -= alpha * mi / (std::sqrt(vi) + 1e-7f);
    }
  }

  std::size_t batch_;
  Kernel gemm_;
  unsigned seed_ = 12345u;
  long t_ = 0;
  std::vector<Layer> layers_;
  std::vector<Slots> adam_;
};

}  // namespace normlab::bench
