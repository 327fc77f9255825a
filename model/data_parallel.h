/// @file
/// @verbatim
/// Data-parallel training: P processes train one model, each on its shard of every batch
/// (docs/distributed.md). With n_p rows on process p and N = sum_p n_p:
///
///   shard           process p takes rows [floor(N p / P), floor(N (p+1) / P)) of the batch
///   global loss     L = sum_p n_p L_p / N             (L_p: the loss of p's shard)
///   loss gradient   dL/dy_i = (n_p / N) dL_p/dy_i      so that every backward computes the
///                                                     global loss's gradients of its rows
///   gradients       grad = sum_p grad_p               one allreduce of all of them, packed,
///                                                     with n_p L_p and the metrics' counts
///   state           after the step every non-trainable variable (moving statistics,
///                   counters) is averaged over processes, in double precision so that equal
///                   values (a synchronized BatchNormalization's) stay bit for bit equal
///
/// Every process starts from the same weights (the same seed) and applies the same summed
/// gradients, so weights and state stay equal on all processes. With one process every step
/// below does nothing and training is exactly the single-process one.
/// @endverbatim
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "core/communicator.h"
#include "core/layer.h"
#include "core/tensor.h"
#include "model/metrics.h"

namespace normlab {

/// The data-parallel parts of a training step, with the buffers they reuse.
class DataParallel {
 public:
  /// The processes that share each batch (local_communicator() until set).
  Communicator& communicator() const { return *communicator_; }
  /// Trains with these processes from the next step on.
  void set_communicator(Communicator& communicator) { communicator_ = &communicator; }
  /// More than one process.
  bool distributed() const { return communicator_->size() > 1; }

  /// This process's rows of a batch: [floor(N p / P), floor(N (p+1) / P)).
  std::span<const std::size_t> shard(std::span<const std::size_t> batch) const;
  /// The rows of all shards together (one allreduce; `rows` itself with one process).
  double global_rows(std::size_t rows) const;

  /// Remembers the metrics' counts before this step's update, to sum its increments.
  void begin_step(const std::vector<Metric>& metrics);
  /// dy scaled by rows / global_rows: the global loss's gradient of this shard's outputs
  /// (dy itself with one process).
  const Tensor& loss_gradient(const Tensor& dy, double rows, double global_rows);
  /// Sums the gradients and this step's loss and metric increments over processes; returns the
  /// global batch loss sum_p n_p L_p / N (batch_loss with one process).
  float reduce(const std::vector<Variable>& trainable, float batch_loss, double rows,
               double global_rows, std::vector<Metric>& metrics);
  /// Averages every non-trainable variable over processes (after the optimizer step).
  void average_state(const std::vector<std::vector<Variable>>& layers);

 private:
  Communicator* communicator_ = &local_communicator();
  std::vector<Metric::State> metrics_before_;
  Tensor scaled_dy_;
  std::vector<float> sums_;    // gradients, n_p L_p, metric increments
  std::vector<double> state_;  // non-trainable variables
};

}  // namespace normlab
