/// @file
/// The quantity a callback watches in the epoch logs ("val_loss") and which way is better, as
/// Keras' EarlyStopping and ReduceLROnPlateau decide it (keras/src/callbacks/early_stopping.py,
/// reduce_lr_on_plateau.py):
/// @verbatim
///   improves(current, best) = current < best - min_delta     mode "min"
///                             current > best + min_delta     mode "max"
/// @endverbatim
/// Mode "auto" picks min for losses and max for accuracies; a key the logs do not have is an
/// error naming the keys they do have (Keras only warns, and the callback then never acts).
#pragma once

#include <string>

#include "model/callbacks.h"

namespace normlab {

/// What to watch and which way is better.
struct Monitor {
  std::string key;         ///< a log key: "loss", "val_loss", "val_accuracy"
  bool maximize = false;   ///< higher is better
  double min_delta = 0.0;  ///< >= 0: the least change that counts as an improvement

  /// The value of key in logs; throws when logs lack it.
  double value(const Logs& logs, const std::string& who) const;
  /// `current` is better than `reference` by more than min_delta.
  bool improves(double current, double reference) const {
    return maximize ? current > reference + min_delta : current < reference - min_delta;
  }
  /// The starting best: -inf when maximizing, +inf otherwise.
  double worst() const;
};

/// mode "min", "max" or "auto": EarlyStopping's rule, min for a loss ("loss", "val_loss") and
/// max for an accuracy, else an error asking for a mode; with `by_name` ReduceLROnPlateau's rule,
/// max when the key contains "acc", else min.
Monitor make_monitor(const std::string& key, const std::string& mode, double min_delta,
                     bool by_name, const std::string& who);

}  // namespace normlab
