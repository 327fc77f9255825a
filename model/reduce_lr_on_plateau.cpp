#include "model/reduce_lr_on_plateau.h"

#include <algorithm>
#include <iostream>

#include "core/error.h"
#include "core/format.h"
#include "model/sequential.h"

namespace normlab {

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauConfig config)
    : config_(std::move(config)),
      monitor_(make_monitor(config_.monitor, config_.mode, config_.min_delta, true,
                            "ReduceLROnPlateau")) {
  check(config_.factor > 0.0 && config_.factor < 1.0,
        "ReduceLROnPlateau: factor must be in (0, 1), got " + format_float(config_.factor));
  check(config_.patience >= 0 && config_.cooldown >= 0,
        "ReduceLROnPlateau: patience and cooldown must be >= 0");
  check(config_.min_lr >= 0.0, "ReduceLROnPlateau: min_lr must be >= 0");
}

void ReduceLROnPlateau::on_train_begin(Sequential& model, int) {
  check(!model.optimizer().options().learning_rate_schedule,
        "ReduceLROnPlateau: the optimizer's learning rate is a schedule; it needs a constant one");
  wait_ = cooldown_counter_ = 0;
  best_ = monitor_.worst();
}

void ReduceLROnPlateau::on_epoch_end(Sequential& model, int epoch, const Logs& logs) {
  const double current = monitor_.value(logs, "ReduceLROnPlateau");
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  if (monitor_.improves(current, best_)) {
    best_ = current;
    wait_ = 0;
    return;
  }
  if (cooldown_counter_ > 0 || ++wait_ < config_.patience) return;
  Optimizer& optimizer = model.optimizer();
  const double old_lr = optimizer.learning_rate();
  if (!(old_lr > static_cast<float>(config_.min_lr))) return;
  const double new_lr = std::max(old_lr * config_.factor, config_.min_lr);
  optimizer.set_learning_rate(static_cast<float>(new_lr));
  if (config_.verbose > 0)
    std::cout << "\nEpoch " << epoch + 1 << ": ReduceLROnPlateau reducing learning rate to "
              << format_float(static_cast<float>(new_lr)) << ".\n";
  cooldown_counter_ = config_.cooldown;
  wait_ = 0;
}

}  // namespace normlab
