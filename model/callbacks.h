// What fit() reports while it runs, and the objects that listen (Keras' callbacks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace normlab {

class Sequential;

// Named values in display order: loss first, then metrics, then val_*.
using Logs = std::vector<std::pair<std::string, float>>;
// The value named `key`; throws when it is absent.
float log_value(const Logs& logs, const std::string& key);

// Per-epoch values of every log key, as Keras' History.history.
struct History {
  std::vector<std::string> keys;
  std::map<std::string, std::vector<float>> history;
  void append(const Logs& logs);
  const std::vector<float>& operator[](const std::string& key) const;
  std::size_t epochs() const { return history.empty() ? 0 : history.begin()->second.size(); }
};

// One finished training step.
struct StepInfo {
  int epoch = 0;            // 0-based
  std::size_t batch = 0;    // 0-based within the epoch
  std::size_t batches = 0;  // batches in this epoch
  std::int64_t step = 0;    // 1-based count of optimizer steps in this fit
  std::size_t rows = 0;     // rows in the batch
  float batch_loss = 0.0f;  // what train_on_batch returns: training forward, weights before
  Logs running;             // running means over the epoch so far (what Keras' bar shows)
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Sequential&, int /*epochs*/) {}
  virtual void on_epoch_begin(Sequential&, int /*epoch*/, std::size_t /*batches*/) {}
  virtual void on_batch_end(Sequential&, const StepInfo&) {}
  virtual void on_epoch_end(Sequential&, int /*epoch*/, const Logs&) {}
  virtual void on_train_end(Sequential&) {}
};

}  // namespace normlab
