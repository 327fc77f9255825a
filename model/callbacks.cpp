#include "model/callbacks.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "model/sequential.h"

namespace normlab {

float log_value(const Logs& logs, const std::string& key) {
  for (const auto& [name, value] : logs)
    if (name == key) return value;
  throw Error("no log entry named '" + key + "'");
}

void History::append(const Logs& logs) {
  for (const auto& [name, value] : logs) {
    auto [it, inserted] = history.try_emplace(name);
    if (inserted) keys.push_back(name);
    it->second.push_back(value);
  }
}

const std::vector<float>& History::operator[](const std::string& key) const {
  const auto it = history.find(key);
  check(it != history.end(), "History has no key '" + key + "'");
  return it->second;
}

void TerminateOnNaN::on_train_begin(Sequential&, int epochs) {
  epochs_ = epochs;
  has_finite_ = false;
  message_.clear();
}

void TerminateOnNaN::on_batch_end(Sequential& model, const StepInfo& step) {
  if (std::isfinite(step.batch_loss)) {
    has_finite_ = true;
    last_finite_ = step.batch_loss;
    last_finite_step_ = step.step;
    return;
  }
  char last[96] = "no earlier step of this run had a finite loss";
  if (has_finite_)
    std::snprintf(last, sizeof last, "the last finite loss was %.6g (step %lld)",
                  static_cast<double>(last_finite_), static_cast<long long>(last_finite_step_));
  message_ = "loss is " +
             std::string(std::isnan(step.batch_loss) ? "nan"
                         : step.batch_loss > 0       ? "inf"
                                                     : "-inf") +
             " at epoch " + std::to_string(step.epoch + 1) + "/" + std::to_string(epochs_) +
             ", batch " + std::to_string(step.batch + 1) + "/" + std::to_string(step.batches) +
             " (step " + std::to_string(step.step) + "); " + last;
  model.stop_training = true;
}

}  // namespace normlab
