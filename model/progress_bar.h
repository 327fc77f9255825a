/// @file
/// @verbatim
/// Keras' progress display for fit():
///   verbose 1 on a terminal: a bar redrawn after every step,
///     Epoch 3/10
///     35/35 [==============================] - 0s 1ms/step - loss: 0.2150 - accuracy: 0.9100
///   verbose 1 elsewhere (a log file, a pipe) and verbose 2: one such line per epoch.
/// @endverbatim
#pragma once

#include <chrono>
#include <cstdio>

#include "model/callbacks.h"

namespace normlab {

/// Keras' progress display for fit(), verbose 1 or 2.
class ProgressBar final : public Callback {
 public:
  /// Draws on `out`: a bar when verbose is 1 and `out` is a terminal, else one line per epoch.
  ProgressBar(int verbose, std::FILE* out = stdout);
  void on_train_begin(Sequential&, int epochs) override;
  void on_epoch_begin(Sequential&, int epoch, std::size_t batches) override;
  void on_batch_end(Sequential&, const StepInfo& step) override;
  void on_epoch_end(Sequential&, int epoch, const Logs& logs) override;

 private:
  void draw(std::size_t done, const Logs& logs, bool final);

  int verbose_;
  std::FILE* out_;
  bool terminal_;
  int epochs_ = 0;
  std::size_t batches_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

/// "loss: 0.2150 - accuracy: 0.9100", Keras' formatting of logs.
std::string format_logs(const Logs& logs);

}  // namespace normlab
