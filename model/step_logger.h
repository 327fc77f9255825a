/// @file
/// @verbatim
/// A per-step training log, for plotting how the batch loss and every BatchNormalization
/// layer's moving statistics evolve. One row per optimizer step, streamed to a CSV file:
///
///   epoch,batch,step,loss,bn/moving_mean[0],...,bn/moving_mean[D-1],bn/moving_variance[0],...
///
///   epoch, batch   0-based; step: 1-based count of optimizer steps in the fit
///   loss           the batch loss as train_on_batch returns it: the training-mode forward
///                  pass with the weights before the step's update
///   bn/...         every BatchNormalization layer's moving_mean and moving_variance after the
///                  step's update (the layer's name, then the channel)
/// Rows are flushed as they are written, so the log can be followed during training and is
/// complete up to the last finished step if the run stops.
/// @endverbatim
#pragma once

#include <cstdio>
#include <string>

#include "model/callbacks.h"

namespace normlab {

/// A CSV row per optimizer step: the batch loss and every BatchNormalization moving statistic.
class StepLogger final : public Callback {
 public:
  /// Logs to `filename`, truncated when training begins.
  explicit StepLogger(std::string filename);
  ~StepLogger() override;
  StepLogger(const StepLogger&) = delete;
  StepLogger& operator=(const StepLogger&) = delete;

  /// The log file.
  const std::string& filename() const { return filename_; }

  void on_train_begin(Sequential& model, int epochs) override;
  void on_batch_end(Sequential& model, const StepInfo& step) override;
  void on_train_end(Sequential&) override;

 private:
  std::string filename_;
  std::FILE* file_ = nullptr;
  std::string line_;  // the row being written, reused
};

}  // namespace normlab
