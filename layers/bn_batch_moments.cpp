#include "layers/bn_batch_moments.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"

namespace normlab {

std::size_t group_count(std::size_t n, std::size_t k, bool merge) {
  if (k == 0) return 1;
  if (merge) return std::max<std::size_t>(1, n / k);
  if (n % k != 0)
    throw Error("virtual_batch_size " + std::to_string(k) + " does not divide the batch of " +
                std::to_string(n) +
                " rows; give a batch_size that is a multiple of it, or set "
                "virtual_batch_size_remainder: \"merge\" to let the last " +
                std::to_string(n % k) + " rows join the ghost batches");
  return n / k;
}

namespace {
// Row kernels over d features; restrict-qualified parameters let GCC vectorize them without
// run-time overlap checks.
// sum += w x
void add_scaled_row(std::size_t d, float w, const float* __restrict x, float* __restrict sum) {
  for (std::size_t j = 0; j < d; ++j) sum[j] += w * x[j];
}

// sum += w (x - m)^2
void add_weighted_squares_row(std::size_t d, float w, const float* __restrict x,
                              const float* __restrict m, float* __restrict sum) {
  for (std::size_t j = 0; j < d; ++j) {
    const float c = x[j] - m[j];
    sum[j] += w * c * c;
  }
}

// sg += g, sgx += g xhat
void accumulate_row(std::size_t d, const float* __restrict g, const float* __restrict xhat,
                    float* __restrict sg, float* __restrict sgx) {
  for (std::size_t j = 0; j < d; ++j) {
    sg[j] += g[j];
    sgx[j] += g[j] * xhat[j];
  }
}

// dx = gr s (g - sg f - xhat sgx f)
void input_grad_row(std::size_t d, const float* __restrict g, const float* __restrict xhat,
                    const float* __restrict gr, const float* __restrict s,
                    const float* __restrict sg, const float* __restrict sgx, float f,
                    float* __restrict dx) {
  for (std::size_t j = 0; j < d; ++j)
    dx[j] = gr[j] * s[j] * (g[j] - sg[j] * f - xhat[j] * sgx[j] * f);
}
}  // namespace

void group_moments(const Tensor& x, const float* weights, std::size_t groups, Tensor& mean,
                   Tensor& var, std::vector<float>& inv_weight, std::vector<double>& size,
                   Communicator* across) {
  const std::size_t n = x.rows(), d = x.cols();
  mean.resize(groups, d);
  var.resize(groups, d);
  inv_weight.assign(groups, 0.0f);  // holds W_g until the end
  size.assign(groups, 0.0);         // holds sum w^2 until the end (weighted)
  mean.fill(0.0f);
  var.fill(0.0f);
  // W_g and sum w^2 first, so that the passes over x below hold nothing that can throw
  for (std::size_t i = 0; i < n; ++i) {
    const float w = weights ? weights[i] : 1.0f;
    if (weights && !(std::isfinite(w) && w >= 0.0f))
      throw Error("weighted_statistics needs finite sample weights >= 0, got " + format_float(w) +
                  " for row " + std::to_string(i));
    inv_weight[i % groups] += w;
    size[i % groups] += static_cast<double>(w) * w;
  }
  // mean_g = sum w x / W_g   (w = 1: the sum times 1/n, bit for bit the unweighted formula);
  // split by features [j, e) over the threads
  parallel_for_columns(n, d, [&](std::size_t j, std::size_t e) {
    for (std::size_t i = 0; i < n; ++i)
      add_scaled_row(e - j, weights ? weights[i] : 1.0f, x.row(i) + j, mean.row(i % groups) + j);
  });
  if (across) {  // the sums of the whole batch
    across->allreduce_sum(mean.data(), groups * d);
    across->allreduce_sum(inv_weight.data(), groups);
    if (weights) across->allreduce_sum(size.data(), groups);
  }
  for (std::size_t g = 0; g < groups; ++g) {
    const float total = inv_weight[g];
    if (!(total > 0.0f))
      throw Error("the rows of ghost batch " + std::to_string(g) +
                  " have a total sample weight of 0; weighted_statistics needs a positive " +
                  "total in every ghost batch");
    // n_g: the row count (W_g when w = 1), or Kish's effective size (sum w)^2 / sum w^2
    size[g] = weights ? static_cast<double>(total) * total / size[g] : static_cast<double>(total);
    inv_weight[g] = 1.0f / total;
    float* m = mean.row(g);
    for (std::size_t j = 0; j < d; ++j) m[j] *= inv_weight[g];
  }
  // var_g = sum w (x - mean_g)^2 / W_g   (two passes)
  parallel_for_columns(n, d, [&](std::size_t j, std::size_t e) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t g = i % groups;
      add_weighted_squares_row(e - j, weights ? weights[i] : 1.0f, x.row(i) + j, mean.row(g) + j,
                               var.row(g) + j);
    }
  });
  if (across) across->allreduce_sum(var.data(), groups * d);
  for (std::size_t g = 0; g < groups; ++g) {
    float* v = var.row(g);
    for (std::size_t j = 0; j < d; ++j) v[j] *= inv_weight[g];
  }
}

void ghost_average(const Tensor& group_mean, const Tensor& group_var, Tensor& mean, Tensor& var) {
  const std::size_t groups = group_mean.rows(), d = group_mean.cols();
  const float inv_groups = 1.0f / static_cast<float>(groups);
  for (std::size_t j = 0; j < d; ++j) {
    mean[j] = group_mean(0, j);
    var[j] = group_var(0, j);
    for (std::size_t g = 1; g < groups; ++g) {
      mean[j] += group_mean(g, j);
      var[j] += group_var(g, j);
    }
    if (groups > 1) {
      mean[j] *= inv_groups;
      var[j] *= inv_groups;
    }
  }
}

void ghost_estimate(const Tensor& group_var, const std::vector<float>& correction, Tensor& s) {
  const std::size_t groups = group_var.rows(), d = group_var.cols();
  const float inv_groups = 1.0f / static_cast<float>(groups);
  for (std::size_t j = 0; j < d; ++j) {
    s[j] = group_var(0, j) * correction[0];
    for (std::size_t g = 1; g < groups; ++g) s[j] += group_var(g, j) * correction[g];
    if (groups > 1) s[j] *= inv_groups;
  }
}

void gradient_sums(const Tensor& dy, const Tensor& xhat, std::size_t groups, Tensor& sum_g,
                   Tensor& sum_gx) {
  const std::size_t n = dy.rows(), d = dy.cols();
  sum_g.resize(groups, d);
  sum_gx.resize(groups, d);
  sum_g.fill(0.0f);
  sum_gx.fill(0.0f);
  parallel_for_columns(n, d, [&](std::size_t j, std::size_t e) {
    for (std::size_t i = 0; i < n; ++i)
      accumulate_row(e - j, dy.row(i) + j, xhat.row(i) + j, sum_g.row(i % groups) + j,
                     sum_gx.row(i % groups) + j);
  });
}

void reduce_gradient_sums(Communicator& across, Tensor& sum_g, Tensor& sum_gx) {
  across.allreduce_sum(sum_g.data(), sum_g.size());
  across.allreduce_sum(sum_gx.data(), sum_gx.size());
}

void batch_statistics_input_gradient(const Tensor& dy, const Tensor& xhat, const Tensor& gamma_r,
                                     const Tensor& inv_std, const Tensor& sum_g,
                                     const Tensor& sum_gx, const float* weights,
                                     const std::vector<float>& inv_weight, Tensor& dx) {
  const std::size_t n = dy.rows(), d = dy.cols(), groups = sum_g.rows();
  const float* gr = gamma_r.data();
  parallel_for_columns(n, d, [&](std::size_t j, std::size_t e) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t g = i % groups;
      const float f = weights ? weights[i] * inv_weight[g] : inv_weight[g];
      input_grad_row(e - j, dy.row(i) + j, xhat.row(i) + j, gr + j, inv_std.row(g) + j,
                     sum_g.row(g) + j, sum_gx.row(g) + j, f, dx.row(i) + j);
    }
  });
}

}  // namespace normlab
