/// @file
/// What fit() reports while it runs, the objects that listen (Keras' callbacks), and where a
/// fit stands between two steps (FitState), which a checkpoint saves and a resumed fit continues.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "data/batcher.h"

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
  /// The same keys with the same values, bit for bit: how a resumed fit's history is compared
  /// with an uninterrupted one's.
  bool operator==(const History&) const = default;
};

/// Where fit() stands between two steps: with the model's variables, its optimizer's state and
/// its Rng, everything a resumed fit needs to go on exactly as an uninterrupted one would.
struct FitState {
  int epoch = 0;          ///< the epoch in progress (0-based); == epochs once fit is done
  std::size_t batch = 0;  ///< batches of that epoch done; 0: the epoch has not begun
  std::int64_t step = 0;  ///< optimizer steps done, over every epoch
  double loss_sum = 0.0;  ///< sum of batch loss x batch rows over the epoch's batches done
  double rows = 0.0;      ///< rows of the epoch's batches done
  std::vector<std::array<double, 2>> metrics;  ///< each metric's accumulators (Metric::State)
  Batcher::State batcher;                      ///< the row order and the shuffling stream
  History history;                             ///< the epochs finished
  /// The same position, sums and states, field by field: a checkpoint's round trip gives back
  /// an equal FitState.
  bool operator==(const FitState&) const = default;
};

/// One finished training step.
struct StepInfo {
  int epoch = 0;            ///< 0-based
  std::size_t batch = 0;    ///< 0-based within the epoch
  std::size_t batches = 0;  ///< batches in this epoch
  std::int64_t step = 0;    ///< 1-based count of optimizer steps, continued by a resumed fit
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

/// @verbatim
/// Keras' TerminateOnNaN: stops training at the first step whose batch loss is NaN or infinite,
/// after that step. message() then names the step and the last finite loss:
///   loss is nan at epoch 3/10, batch 7/35 (step 77); the last finite loss was 0.241237
///   (step 76)
/// The model's weights are then those after the failed step; CheckpointWriter (io/checkpoint.h)
/// never saves such a step, so the last checkpoint stays a good one.
/// @endverbatim
class TerminateOnNaN : public Callback {
 public:
  /// Forgets any earlier stop.
  void on_train_begin(Sequential&, int epochs) override;
  /// Checks the step's batch loss; a non-finite one sets stop_training.
  void on_batch_end(Sequential& model, const StepInfo& step) override;
  /// Training was stopped by a non-finite loss.
  bool stopped() const { return !message_.empty(); }
  /// Why it stopped (see above); empty while it has not.
  const std::string& message() const { return message_; }

 private:
  int epochs_ = 0;
  bool has_finite_ = false;
  float last_finite_ = 0.0f;
  std::int64_t last_finite_step_ = 0;
  std::string message_;
};

}  // namespace normlab
