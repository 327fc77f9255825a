/// @file
/// @verbatim
/// Keras' ReduceLROnPlateau (keras/src/callbacks/reduce_lr_on_plateau.py). After each epoch,
/// with v the monitored value (monitor.h):
///   in cooldown:        cooldown_counter <- cooldown_counter - 1, wait <- 0
///   v improves on best: best <- v, wait <- 0
///   else, not in cooldown: wait <- wait + 1; when wait >= patience and lr > min_lr:
///                          lr <- max(lr factor, min_lr), cooldown_counter <- cooldown, wait <- 0
/// The optimizer's learning rate must be a constant (Keras refuses a schedule too).
/// @endverbatim
#pragma once

#include <string>

#include "model/monitor.h"

namespace normlab {

/// Keras' arguments and defaults.
struct ReduceLROnPlateauConfig {
  std::string monitor = "val_loss";  ///< the log key watched
  double factor = 0.1;               ///< in (0, 1): lr <- lr factor
  int patience = 10;                 ///< epochs without improvement before reducing
  std::string mode = "auto";         ///< "auto" (max when the key has "acc"), "min", "max"
  double min_delta = 1e-4;           ///< the least change that counts
  int cooldown = 0;                  ///< epochs of rest after a reduction
  double min_lr = 0.0;               ///< the learning rate's floor
  int verbose = 0;                   ///< 1: say when it reduces
};

/// Lowers the optimizer's learning rate when the monitored value stops improving.
class ReduceLROnPlateau final : public Callback {
 public:
  /// Checks the settings (factor in (0, 1), patience, cooldown and min_lr >= 0).
  explicit ReduceLROnPlateau(ReduceLROnPlateauConfig config);
  void on_train_begin(Sequential& model, int epochs) override;
  void on_epoch_end(Sequential& model, int epoch, const Logs& logs) override;
  int wait() const { return wait_; }  ///< Epochs counted since the last improvement.

 private:
  ReduceLROnPlateauConfig config_;
  Monitor monitor_;
  int wait_ = 0, cooldown_counter_ = 0;
  double best_ = 0.0;
};

}  // namespace normlab
