/// @file
/// @verbatim
/// BatchNormalization part: the batch moments, plain or over ghost batches, weighted,
/// synchronized. Per ghost batch g (rows i with i mod G = g), per feature j:
///   W_g    = sum_{i in g} w_i                  (w_i = 1 unweighted: W_g is the row count)
///   mean_g = sum_{i in g} w_i x_i / W_g
///   var_g  = sum_{i in g} w_i (x_i - mean_g)^2 / W_g      biased, two passes
///   n_g    = W_g^2 / sum w_i^2                 (Kish's effective size; the row count if w = 1)
/// The layer normalizes row i with mean_g, var_g of its ghost batch, and its backward uses the
/// row's share f_i = w_i / W_g (1/N for the plain batch):
///   dx_i = gamma / sqrt(var_g + eps) * (g_i - f_i sum_{k in g} g_k - f_i xhat_i sum_{k in g} g_k
///   xhat_k)
/// The moving statistics take the means over ghost batches (G = 1: the batch's own):
///   mean = (1/G) sum_g mean_g,  var = (1/G) sum_g var_g,  s = (1/G) sum_g var_g c(n_g)
///
/// plain (Keras): G = 1, w = 1, one process.
/// virtual_batch_size = k (ghost batch normalization, Hoffer et al. 2017; tf.keras 2.x reshapes
///   the batch to (k, G, D) and takes moments over the first axis, so ghost batches are
///   strided): G = N/k; k must divide N unless virtual_batch_size_remainder is "merge": then
///   G = max(1, floor(N/k)) and the N mod k last rows join the first ghost batches.
/// weighted_statistics: w_i the step context's sample weights (the fit's sample_weight times
///   class_weight), as tf.nn.weighted_moments.
/// synchronized (Keras' name; data-parallel training over P processes, docs/distributed.md):
///   each process holds a shard of the batch, and every sum over rows above (sum w x, W_g,
///   sum w^2, sum w (x - mean)^2, and in backward sum g, sum g xhat) is summed over the processes
///   (allreduce) before it is used, so P processes give the outputs, gradients and moving
///   statistics of one process with the whole batch. dgamma and dbeta keep this shard's sums;
///   the fit loop sums gradients over processes. Not with virtual_batch_size.
/// @endverbatim
#pragma once

#include <cstddef>
#include <vector>

#include "core/communicator.h"
#include "core/tensor.h"

namespace normlab {

/// The number of ghost batches G of a batch of n rows with virtual batch size k (0: none, G = 1).
/// k must divide n unless `merge` is set; then G = max(1, floor(n / k)) and the n mod k
/// remaining rows join the first ghost batches one each (row i is in ghost batch i mod G).
std::size_t group_count(std::size_t n, std::size_t k, bool merge);

/// Moments of the G ghost batches of x. `weights` is null (every row weighs 1) or n weights >= 0
/// whose sum is positive in every ghost batch. Resizes and fills mean and var (G x D),
/// inv_weight (1 / W_g) and size (n_g), all without allocating once grown.
/// `across` (synchronized statistics): x is this process's shard of a batch split over its
/// processes; every per-channel sum is summed over them before it is divided, so each process
/// gets the moments of the whole batch. Throws Error, which the layer prefixes with its name.
void group_moments(const Tensor& x, const float* weights, std::size_t groups, Tensor& mean,
                   Tensor& var, std::vector<float>& inv_weight, std::vector<double>& size,
                   Communicator* across = nullptr);

/// mean = (1/G) sum_g group_mean_g and var = (1/G) sum_g group_var_g (1 x D; G = 1: row 0).
void ghost_average(const Tensor& group_mean, const Tensor& group_var, Tensor& mean, Tensor& var);

/// s = (1/G) sum_g group_var_g c_g (1 x D), c_g the variance estimator of ghost batch g.
void ghost_estimate(const Tensor& group_var, const std::vector<float>& correction, Tensor& s);

/// The backward's sums per ghost batch (G x D): sum_g = sum_{i in g} dy_i and
/// sum_gx = sum_{i in g} dy_i xhat_i.
void gradient_sums(const Tensor& dy, const Tensor& xhat, std::size_t groups, Tensor& sum_g,
                   Tensor& sum_gx);
/// synchronized: the sums of the whole batch, summed over the processes.
void reduce_gradient_sums(Communicator& across, Tensor& sum_g, Tensor& sum_gx);
/// dx_i = gamma_r inv_std_g (dy_i - f_i sum_g - f_i xhat_i sum_gx), f_i = w_i / W_g (1 / W_g
/// unweighted: `weights` null); gamma_r 1 x D, inv_std and the sums G x D, inv_weight 1/W_g.
void batch_statistics_input_gradient(const Tensor& dy, const Tensor& xhat, const Tensor& gamma_r,
                                     const Tensor& inv_std, const Tensor& sum_g,
                                     const Tensor& sum_gx, const float* weights,
                                     const std::vector<float>& inv_weight, Tensor& dx);

}  // namespace normlab
