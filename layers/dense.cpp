#include "layers/dense.h"

#include <algorithm>

#include "core/blas.h"
#include "core/error.h"
#include "core/parallel.h"
#include "layers/initializers.h"

namespace normlab {

namespace {
// sum += row; restrict lets GCC vectorize it without a run-time overlap check
void add_row(std::size_t n, const float* __restrict row, float* __restrict sum) {
  for (std::size_t c = 0; c < n; ++c) sum[c] += row[c];
}
}  // namespace

Dense::Dense(std::size_t units, const std::string& activation, bool use_bias)
    : Dense(DenseConfig{.units = units, .activation = activation, .use_bias = use_bias}) {}

Dense::Dense(const DenseConfig& config)
    : config_(config), activation_(parse_activation(config.activation)) {
  name_ = config.name;
  check(config.units > 0, "Dense: units must be a positive integer, got 0");
  check_initializer(config.kernel_initializer);
  check_initializer(config.bias_initializer);
}

nlohmann::json Dense::get_config() const {
  return {{"name", name_},
          {"trainable", trainable_},
          {"units", config_.units},
          {"activation", activation_name(activation_)},
          {"use_bias", config_.use_bias},
          {"kernel_initializer", config_.kernel_initializer},
          {"bias_initializer", config_.bias_initializer}};
}

void Dense::build_weights(Rng& rng) {
  kernel = Tensor(input_dim_, config_.units);
  dkernel = Tensor(input_dim_, config_.units);
  initialize(config_.kernel_initializer, kernel, input_dim_, config_.units, rng);
  if (config_.use_bias) {
    bias = Tensor(1, config_.units);
    dbias = Tensor(1, config_.units);
    initialize(config_.bias_initializer, bias, input_dim_, config_.units, rng);
  }
}

std::vector<Variable> Dense::variables() {
  std::vector<Variable> vars{{"kernel", &kernel, &dkernel, false}};
  if (config_.use_bias) vars.push_back({"bias", &bias, &dbias, true});
  return vars;
}

const Tensor& Dense::forward(const Tensor& x, const StepContext& ctx) {
  check_input(x);
  const std::size_t n = x.rows(), in = input_dim_, out = config_.units;
  y_.resize(n, out);
  // z = b + x W: the rows start as b and the product is added to them (beta = 1), which
  // saves the pass of a separate bias add (OpenBLAS would otherwise zero C first).
  if (config_.use_bias)
    parallel_for_rows(n, out, [&](std::size_t begin, std::size_t end) {
      for (std::size_t r = begin; r < end; ++r) std::copy(bias.begin(), bias.end(), y_.row(r));
    });
  gemm({.m = n,
        .n = out,
        .k = in,
        .a = x.data(),
        .lda = in,
        .b = kernel.data(),
        .ldb = out,
        .beta = config_.use_bias ? 1.0f : 0.0f,
        .c = y_.data(),
        .ldc = out});
  // y = f(z), in place
  activation_forward(activation_, y_, y_);
  x_ = &x;
  trained_forward_ = ctx.training();
  return y_;
}

const Tensor& Dense::backward(const Tensor& dy) {
  check_backward(dy, y_);
  const std::size_t n = dy.rows(), in = input_dim_, out = config_.units;
  // dz = f'(z) * dy
  const Tensor* dz = &dy;
  if (activation_ != ActivationKind::Linear) {
    activation_backward(activation_, y_, dy, dz_);
    dz = &dz_;
  }
  // dW += x^T dz
  gemm({.trans_a = true,
        .m = in,
        .n = out,
        .k = n,
        .a = x_->data(),
        .lda = in,
        .b = dz->data(),
        .ldb = out,
        .beta = 1.0f,
        .c = dkernel.data(),
        .ldc = out});
  // db += sum over rows of dz
  if (config_.use_bias)
    parallel_for_columns(n, out, [&](std::size_t begin, std::size_t end) {
      for (std::size_t r = 0; r < n; ++r)
        add_row(end - begin, dz->row(r) + begin, dbias.data() + begin);
    });
  // dx = dz W^T
  if (input_grad_needed_) {
    dx_.resize(n, in);
    gemm({.trans_b = true,
          .m = n,
          .n = in,
          .k = out,
          .a = dz->data(),
          .lda = out,
          .b = kernel.data(),
          .ldb = out,
          .c = dx_.data(),
          .ldc = in});
  }
  return dx_;
}

}  // namespace normlab
