#include "layers/activation_functions.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/name_table.h"
#include "core/parallel.h"

namespace normlab {

namespace {
constexpr NameTable<ActivationKind, 5> kActivationNames{{{ActivationKind::Linear, "linear"},
                                                         {ActivationKind::Relu, "relu"},
                                                         {ActivationKind::Sigmoid, "sigmoid"},
                                                         {ActivationKind::Tanh, "tanh"},
                                                         {ActivationKind::Softmax, "softmax"}}};
}  // namespace

ActivationKind parse_activation(const std::string& name) {
  return parse_name(kActivationNames, name, "activation");
}

std::string activation_name(ActivationKind kind) {
  return name_of(kActivationNames, kind);
}

namespace {
// Stable on both sides: e^-x never overflows for x >= 0, e^x never overflows for x < 0.
inline float sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}
}  // namespace

void activation_forward(ActivationKind kind, const Tensor& x, Tensor& y) {
  y.resize(x.rows(), x.cols());
  const std::size_t cols = x.cols();
  if (kind == ActivationKind::Softmax) {  // per row; split by rows
    parallel_for_rows(x.rows(), cols, [&](std::size_t b, std::size_t e) {
      for (std::size_t r = b; r < e; ++r) {
        const float* xr = x.row(r);
        float* yr = y.row(r);
        const float max = *std::max_element(xr, xr + cols);
        float sum = 0.0f;
        for (std::size_t c = 0; c < cols; ++c) sum += yr[c] = std::exp(xr[c] - max);
        for (std::size_t c = 0; c < cols; ++c) yr[c] /= sum;
      }
    });
    return;
  }
  const float* in = x.data();
  float* out = y.data();
  parallel_for(x.size(), kElementGrain, [&](std::size_t b, std::size_t e) {
    switch (kind) {
      case ActivationKind::Linear:
        if (out != in) std::copy(in + b, in + e, out + b);
        break;
      case ActivationKind::Relu:
        for (std::size_t i = b; i < e; ++i) out[i] = in[i] < 0.0f ? 0.0f : in[i];  // NaN stays
        break;
      case ActivationKind::Sigmoid:
        for (std::size_t i = b; i < e; ++i) out[i] = sigmoid(in[i]);
        break;
      case ActivationKind::Tanh:
        for (std::size_t i = b; i < e; ++i) out[i] = std::tanh(in[i]);
        break;
      case ActivationKind::Softmax:
        break;
    }
  });
}

void activation_backward(ActivationKind kind, const Tensor& y, const Tensor& dy, Tensor& dx) {
  dx.resize(y.rows(), y.cols());
  const std::size_t cols = y.cols();
  if (kind == ActivationKind::Softmax) {  // per row; split by rows
    parallel_for_rows(y.rows(), cols, [&](std::size_t b, std::size_t e) {
      for (std::size_t r = b; r < e; ++r) {
        const float* yr = y.row(r);
        const float* gr = dy.row(r);
        float* dr = dx.row(r);
        float dot = 0.0f;
        for (std::size_t c = 0; c < cols; ++c) dot += gr[c] * yr[c];
        for (std::size_t c = 0; c < cols; ++c) dr[c] = yr[c] * (gr[c] - dot);
      }
    });
    return;
  }
  const float* out = y.data();
  const float* g = dy.data();
  float* d = dx.data();
  parallel_for(y.size(), kElementGrain, [&](std::size_t b, std::size_t e) {
    switch (kind) {
      case ActivationKind::Linear:
        if (d != g) std::copy(g + b, g + e, d + b);
        break;
      case ActivationKind::Relu:
        // g[i] read unconditionally: a load under the condition keeps GCC from vectorizing
        for (std::size_t i = b; i < e; ++i) {
          const float gi = g[i];
          d[i] = out[i] > 0.0f ? gi : 0.0f;
        }
        break;
      case ActivationKind::Sigmoid:
        for (std::size_t i = b; i < e; ++i) d[i] = g[i] * out[i] * (1.0f - out[i]);
        break;
      case ActivationKind::Tanh:
        for (std::size_t i = b; i < e; ++i) d[i] = g[i] * (1.0f - out[i] * out[i]);
        break;
      case ActivationKind::Softmax:
        break;
    }
  });
}

}  // namespace normlab
