/// @file
/// @verbatim
/// What a BatchNormalization layer's moving statistics hold, and how far they are from the
/// data. For a layer with momentum m after t updates from statistics s_1..s_t (exponential
/// moving average, Keras' convention):
///   moving_t = m^t moving_0 + (1 - m) sum_{k=1..t} m^(t-k) s_k
///   initial weight  m^t          the share the initializer's value (mean 0, variance 1) still has
///   effective window 1/(1 - m)   the usual span of the average: batch k back has weight
///                                (1 - m) m^k, which falls by 1/e after about 1/(1 - m) batches
/// With momentum null (cumulative average) the t-th update keeps 1 - 1/t: the initial weight is 0
/// from t = 1 and the window is t; with moving_average_debias the initial weight is 0 too.
/// On data whose batches all have mean mu and variance v: moving_mean_t = (1 - m^t) mu and
/// moving_variance_t = m^t + (1 - m^t) v, exactly.
///
/// The update count t is the layer's num_batches_tracked when it keeps one (momentum null,
/// moving_average_debias); otherwise BatchNormUpdateCounter counts it during fit and
/// `normlab train` saves the counts as userDefinedMetadata.batch_norm_updates.
///
/// The gap is moving - population, the population statistics being those recalibrate_batchnorm
/// writes (model/precise_bn.h): the mean and the variance (times the layer's c(N)) of the
/// layer's inference-mode input over the data.
///
/// compare_modes evaluates the same batches in both modes: training mode (each BN normalizes
/// with its batch statistics, as during fit; the moving statistics are restored afterwards, so
/// nothing changes) and inference mode (the moving statistics).
/// @endverbatim
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/callbacks.h"
#include "model/precise_bn.h"
#include "model/sequential.h"

namespace normlab {

/// One BatchNormalization layer's moving statistics next to the data's.
struct BatchNormDiagnostics {
  std::size_t index = 0;  ///< the layer's position in the model
  std::string name;       ///< the layer's name
  /// Keras' momentum, the weight each update keeps.
  double momentum = 0.0;
  /// "exponential", "cumulative" (momentum null) or "debiased" (moving_average_debias).
  std::string averaging;
  std::optional<double> updates;  ///< t; empty when neither the layer nor the caller knows it
  /// The weight the initial values still hold after t updates; empty when t is unknown.
  std::optional<double> initial_weight;
  /// 1/(1 - momentum); t for a cumulative average (empty when t is unknown).
  std::optional<double> effective_window;
  ///@{
  /// Per channel: the layer's moving statistics and the data's population ones.
  std::vector<double> moving_mean, moving_variance;
  std::vector<double> population_mean, population_variance;
  ///@}
  std::size_t rows = 0;  ///< rows of data the population statistics come from
};

/// Diagnostics of every BatchNormalization layer of `model` on the rows of x (N x input_dim).
/// `recorded_updates` maps a layer name to its update count, for layers that keep no counter.
/// The model is not changed.
std::vector<BatchNormDiagnostics> batchnorm_diagnostics(
    Sequential& model, const Tensor& x, const std::map<std::string, double>& recorded_updates = {});

/// The loss and metrics of the same batches in training mode and in inference mode.
struct ModeComparison {
  Logs training;   ///< batch statistics, batch by batch ("loss", then the metrics)
  Logs inference;  ///< moving statistics
};

/// Evaluates the compiled model on (x, y) in batches of batch_size, in order, once in training
/// mode (without changing any weight or statistic) and once in inference mode.
ModeComparison compare_modes(Sequential& model, const Tensor& x, const Tensor& y,
                             std::size_t batch_size);

/// The userDefinedMetadata key under which `normlab train` saves BatchNormUpdateCounter's counts.
inline constexpr const char* kBatchNormUpdatesKey = "batch_norm_updates";

/// Counts, per BatchNormalization layer, the training steps that updated its moving statistics:
/// every step of fit whose training forward updated them (BatchNormalization::updated_statistics).
class BatchNormUpdateCounter final : public Callback {
 public:
  /// Counting on from earlier counts (a model trained further).
  explicit BatchNormUpdateCounter(std::map<std::string, double> start = {})
      : counts_(std::move(start)) {}
  /// Adds the step to every layer it updated.
  void on_batch_end(Sequential& model, const StepInfo& step) override;
  /// Layer name -> updates so far.
  const std::map<std::string, double>& counts() const { return counts_; }

 private:
  std::map<std::string, double> counts_;
};

}  // namespace normlab
