/// @file
/// What fit() reports while it runs, and the objects that listen (Keras' callbacks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace normlab {

class Sequential;

/// Named values in display order: loss first, then metrics, then val_*.
using Logs = std::vector<std::pair<std::string, float>>;
/// The value named `key`; throws when it is absent.
float log_value(const Logs& logs, const std::string& key);

/// Per-epoch values of every log key, as Keras' History.history.
struct History {
  /// The log keys in display order.
  std::vector<std::string> keys;
  /// Key -> one value per epoch.
  std::map<std::string, std::vector<float>> history;
  /// Adds one epoch's logs.
  void append(const Logs& logs);
  /// The values of `key`; throws when it is absent.
  const std::vector<float>& operator[](const std::string& key) const;
  /// Epochs recorded.
  std::size_t epochs() const { return history.empty() ? 0 : history.begin()->second.size(); }
};

/// One finished training step.
struct StepInfo {
  int epoch = 0;            ///< 0-based
  std::size_t batch = 0;    ///< 0-based within the epoch
  std::size_t batches = 0;  ///< batches in this epoch
  std::int64_t step = 0;    ///< 1-based count of optimizer steps in this fit
  std::size_t rows = 0;     ///< rows in the batch
  float batch_loss = 0.0f;  ///< what train_on_batch returns: training forward, weights before
  Logs running;             ///< running means over the epoch so far (what Keras' bar shows)
};

/// Listens to fit(): each hook does nothing unless overridden.
class Callback {
 public:
  virtual ~Callback() = default;
  /// Before the first epoch of fit().
  virtual void on_train_begin(Sequential&, int /*epochs*/) {}
  /// Before epoch `epoch` (0-based), which has `batches` steps.
  virtual void on_epoch_begin(Sequential&, int /*epoch*/, std::size_t /*batches*/) {}
  /// After every optimizer step.
  virtual void on_batch_end(Sequential&, const StepInfo&) {}
  /// After epoch `epoch` (0-based) with its logs, validation included.
  virtual void on_epoch_end(Sequential&, int /*epoch*/, const Logs&) {}
  /// After the last epoch, or when training stops early.
  virtual void on_train_end(Sequential&) {}
};

}  // namespace normlab
