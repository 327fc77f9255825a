/// @file
/// The callback that writes checkpoints (io/checkpoint.h) while fit() runs, and the exception
/// that stops a fit once an interrupt's checkpoint is on disk.
#pragma once

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/callbacks.h"

namespace normlab {

/// Thrown by CheckpointWriter once it has saved the checkpoint an interrupt asked for: fit
/// stops at once, without finishing the epoch. Its message says where the checkpoint is.
class TrainingInterrupted : public Error {
 public:
  /// `checkpoint`: the checkpoint written, after `step` steps.
  TrainingInterrupted(std::filesystem::path checkpoint, std::int64_t step);
  /// The checkpoint written.
  const std::filesystem::path& checkpoint() const { return checkpoint_; }
  /// The steps it holds.
  std::int64_t step() const { return step_; }

 private:
  std::filesystem::path checkpoint_;
  std::int64_t step_;
};

/// @verbatim
/// Saves a checkpoint into DIR every `every` optimizer steps, or after the last step of every
/// epoch when `every` is 0 (Keras' BackupAndRestore, save_freq "epoch"). When `*interrupt`
/// becomes non-zero (a signal handler sets it), the next step end writes a checkpoint and
/// throws TrainingInterrupted. A step whose loss or any weight is not finite is never saved:
/// DIR keeps the last good checkpoint.
/// @endverbatim
class CheckpointWriter : public Callback {
 public:
  /// Checkpoints of the run described by `run` (see save_checkpoint) go to `dir`; `metadata`,
  /// when given, is called at each save for the metadata to keep with the model.
  CheckpointWriter(std::filesystem::path dir, std::int64_t every,
                   nlohmann::json run = nlohmann::json::object(),
                   const volatile std::sig_atomic_t* interrupt = nullptr,
                   std::function<nlohmann::json()> metadata = {});
  /// Saves when the step is due or an interrupt is pending.
  void on_batch_end(Sequential& model, const StepInfo& step) override;
  /// The last checkpoint this writer saved; empty before the first.
  const std::filesystem::path& last_saved() const { return last_saved_; }

 private:
  std::filesystem::path dir_;
  std::int64_t every_;
  nlohmann::json run_;
  const volatile std::sig_atomic_t* interrupt_;
  std::function<nlohmann::json()> metadata_;
  std::filesystem::path last_saved_;
  std::int64_t last_step_ = 0;
};

}  // namespace normlab
