/// @file
/// @verbatim
/// Keras' EarlyStopping (keras/src/callbacks/early_stopping.py). After each epoch e >=
/// start_from_epoch, with v the monitored value (monitor.h):
///   wait <- wait + 1
///   v improves on best:  best <- v, keep the weights if restore_best_weights;
///                        wait <- 0 unless a baseline is set and v does not improve on it
///   otherwise:           stop when wait >= patience and e > 0
/// restore_best_weights puts back every variable of the best epoch when training ends:
/// weights and moving statistics alike, as Keras' get_weights/set_weights do. Without an
/// improving epoch, the weights of the first monitored epoch are the best.
/// @endverbatim
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/monitor.h"

namespace normlab {

/// Keras' arguments and defaults.
struct EarlyStoppingConfig {
  std::string monitor = "val_loss";   ///< the log key watched
  double min_delta = 0.0;             ///< the least change that counts
  int patience = 0;                   ///< epochs without improvement before stopping
  std::string mode = "auto";          ///< "auto", "min" or "max"
  std::optional<double> baseline;     ///< waiting restarts only beyond it
  bool restore_best_weights = false;  ///< end on the best epoch's variables
  int start_from_epoch = 0;           ///< epochs ignored at the start (a warm-up)
  int verbose = 0;                    ///< 1: say when it stops and restores
};

/// Stops fit when the monitored value stops improving.
class EarlyStopping final : public Callback {
 public:
  /// Checks the settings (patience and start_from_epoch >= 0, a known mode).
  explicit EarlyStopping(EarlyStoppingConfig config);
  void on_train_begin(Sequential& model, int epochs) override;
  void on_epoch_end(Sequential& model, int epoch, const Logs& logs) override;
  void on_train_end(Sequential& model) override;

  /// The epoch (0-based) training stopped after; none while it has not.
  std::optional<int> stopped_epoch() const { return stopped_epoch_; }
  /// The best epoch (0-based) so far, and its value.
  int best_epoch() const { return best_epoch_; }
  double best() const { return best_; }  ///< See best_epoch().
  int wait() const { return wait_; }     ///< Epochs counted since the last improvement.

 private:
  void keep_weights(Sequential& model);

  EarlyStoppingConfig config_;
  Monitor monitor_;
  int wait_ = 0, best_epoch_ = 0;
  double best_ = 0.0;
  std::optional<int> stopped_epoch_;
  std::vector<Tensor> best_weights_;  ///< every variable of every layer, in order
};

}  // namespace normlab
