/// @file
/// @verbatim
/// Precise BatchNormalization statistics (PreciseBN, Wu & Johnson 2021, "Rethinking 'Batch' in
/// BatchNorm", section 3): with the weights frozen, replace every BatchNormalization layer's
/// moving statistics by the exact population statistics of its input over the data.
///
/// The input of layer k is defined in inference mode: layers are recalibrated first to last, and
/// layer k sees the data passed through layers 0..k-1 with Mode::Infer, the earlier BN layers
/// already holding their recalibrated statistics. That is the network predict() will run, so
/// layer k's statistics match what it actually receives at inference.
///   mean_j = (1/N) sum_i x_ij
///   var_j  = (1/N) sum_i (x_ij - mean_j)^2       biased, over all N rows (each row weighs 1)
/// Accumulated per batch in double and merged with Chan's parallel formula, so batches of any
/// size (the last one partial) combine exactly:
///   n = n_a + n_b, delta = mean_b - mean_a
///   mean = mean_a + delta n_b / n,   M2 = M2_a + M2_b + delta^2 n_a n_b / n,   var = M2 / n
/// moving_variance receives var times the layer's moving_variance_update factor c(N) (1 for
/// "biased", Keras' default; N/(N-1) for "unbiased"), as its updates would.
///
/// How this differs from the references:
///  - fvcore's update_bn_stats and torch.optim.swa_utils.update_bn run training-mode forwards
///    (every BN normalizing with its batch statistics) with momentum=None, so the moving
///    statistics become the average over batches of the batch means and of the unbiased batch
///    variances. The average of batch variances misses the variance of the batch means
///    (var = E_b[var_b] + Var_b[mean_b]), and the inputs of deeper layers are those of
///    batch-statistics normalization, not of the inference network.
///  - Here: the exact population moments of each layer's inference-mode input.
/// With renorm, moving_stddev is set to sqrt(var + eps) so that the inference variance
/// max(moving_stddev^2 - eps, 0) equals var. Counters (num_batches_tracked) are left as they are.
/// @endverbatim
#pragma once

#include <cstddef>
#include <vector>

#include "core/tensor.h"
#include "model/callbacks.h"
#include "model/sequential.h"

namespace normlab {

/// How much data recalibrate_batchnorm reads.
struct RecalibrateOptions {
  /// Rows per forward pass; the statistics do not depend on it (up to float rounding).
  std::size_t batch_size = 32;
  /// The first `batches` batches of x; 0: all of x.
  std::size_t batches = 0;
};

/// Per-channel moments of the rows a layer receives: count rows, mean and biased variance
/// (sum of squared deviations / count), in double.
struct PopulationMoments {
  std::size_t count = 0;     ///< rows seen
  std::vector<double> mean;  ///< 1 per channel
  /// Divided by count.
  std::vector<double> variance;
};

/// The moments of layer `index`'s input over the rows of x that `options` selects, the data
/// passed through layers 0..index-1 in inference mode (nothing in the model changes).
PopulationMoments layer_input_moments(Sequential& model, const Tensor& x, std::size_t index,
                                      const RecalibrateOptions& options = {});

/// Sets every BatchNormalization layer's moving_mean and moving_variance to the exact population
/// statistics of its inference-mode input over the rows of x (N x input_dim), layers first to
/// last. Trainable weights are unchanged. Throws when x does not fit the model or is empty.
void recalibrate_batchnorm(Sequential& model, const Tensor& x, RecalibrateOptions options = {});

/// The fit callback {"class_name": "PreciseBN", "config": {"every_epochs": 1, "batches": 0,
/// "batch_size": 32}}: after every `every_epochs`-th epoch, recalibrate_batchnorm on the
/// training inputs, so that later evaluations and the saved model use population statistics
/// (this epoch's val_* logs come before it, as in fit); and once more at the end with
/// averaged weights.
class PreciseBN final : public Callback {
 public:
  /// Every `every_epochs` (> 0) epochs, on the data set_data() gives.
  PreciseBN(int every_epochs, RecalibrateOptions options);
  /// The training inputs (N x input_dim); not owned, and must outlive the fit.
  void set_data(const Tensor& x) { x_ = &x; }
  /// Recalibrates after epochs every_epochs - 1, 2 every_epochs - 1, ... (0-based).
  void on_epoch_end(Sequential& model, int epoch, const Logs& logs) override;
  /// With an optimizer that averages the weights (use_ema), fit has just swapped the averages
  /// in, and moving statistics gathered with the last weights no longer match them (the
  /// pitfall of stochastic weight averaging): recalibrates once more.
  void on_train_end(Sequential& model) override;

 private:
  int every_epochs_;
  RecalibrateOptions options_;
  const Tensor* x_ = nullptr;
};

}  // namespace normlab
