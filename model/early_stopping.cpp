#include "model/early_stopping.h"

#include <iostream>

#include "core/error.h"
#include "model/sequential.h"

namespace normlab {

EarlyStopping::EarlyStopping(EarlyStoppingConfig config)
    : config_(std::move(config)),
      monitor_(
          make_monitor(config_.monitor, config_.mode, config_.min_delta, false, "EarlyStopping")) {
  check(config_.patience >= 0,
        "EarlyStopping: patience must be >= 0, got " + std::to_string(config_.patience));
  check(config_.start_from_epoch >= 0, "EarlyStopping: start_from_epoch must be >= 0, got " +
                                           std::to_string(config_.start_from_epoch));
}

void EarlyStopping::on_train_begin(Sequential&, int) {
  wait_ = best_epoch_ = 0;
  best_ = monitor_.worst();
  stopped_epoch_.reset();
  best_weights_.clear();
}

void EarlyStopping::keep_weights(Sequential& model) {
  std::size_t k = 0;
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    for (const Variable& v : model.layer_variables(i)) {
      if (k == best_weights_.size())
        best_weights_.push_back(*v.value);
      else
        best_weights_[k] = *v.value;
      ++k;
    }
}

void EarlyStopping::on_epoch_end(Sequential& model, int epoch, const Logs& logs) {
  const double current = monitor_.value(logs, "EarlyStopping");
  if (epoch < config_.start_from_epoch) return;
  if (config_.restore_best_weights && best_weights_.empty()) {
    keep_weights(model);  // without an improvement, the first monitored epoch is the best
    best_epoch_ = epoch;
  }
  ++wait_;
  if (monitor_.improves(current, best_)) {
    best_ = current;
    best_epoch_ = epoch;
    if (config_.restore_best_weights) keep_weights(model);
    if (!config_.baseline || monitor_.improves(current, *config_.baseline)) wait_ = 0;
    return;
  }
  if (wait_ >= config_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    model.stop_training = true;
  }
}

void EarlyStopping::on_train_end(Sequential& model) {
  if (stopped_epoch_ && config_.verbose > 0)
    std::cout << "Epoch " << *stopped_epoch_ + 1 << ": early stopping\n";
  if (!config_.restore_best_weights || best_weights_.empty()) return;
  if (config_.verbose > 0)
    std::cout << "Restoring model weights from the end of the best epoch: " << best_epoch_ + 1
              << ".\n";
  std::size_t k = 0;
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    for (const Variable& v : model.layer_variables(i)) *v.value = best_weights_[k++];
}

}  // namespace normlab
