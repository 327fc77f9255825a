/// @file
/// @verbatim
/// Training checkpoints: all that a fit needs to go on after its process is gone, so that a
/// resumed run ends with the same bits as an uninterrupted one (one thread).
///
///   DIR/latest                  the name of the newest complete checkpoint: "step-00000042"
///   DIR/lock                    held by the run that uses DIR (CheckpointLock)
///   DIR/step-00000042/
///     model.json, weights.bin   save_model(): weights, moving statistics, every other
///                               non-trainable array of every layer
///     training.json             {"format": "normlab-checkpoint", "version": 1, "step": 42,
///                                "run": {...the caller's description of the run...},
///                                "model_rng": [6 numbers],                    (Rng::State)
///                                "optimizer": {"class_name", "iterations",
///                                              "slots": [{"name": "m/0", "shape": [10, 64]}]},
///                                "fit": {"epoch", "batch", "step", "loss_sum", "rows",
///                                        "metrics": [[correct, total], ...],
///                                        "history": {"keys": [...], "values": {...}},
///                                        "batcher": {"epoch", "next_batch", "order", "rng"}}}
///     optimizer.bin             every optimizer slot in "slots" order, little-endian float32
///
/// Writing is atomic at every moment: the checkpoint goes to DIR/step-N.tmp-<pid>, whose files
/// are flushed to the disk, is renamed to DIR/step-N, and only then does DIR/latest (itself
/// replaced by a rename) name it; the older checkpoints are removed last. A process killed at
/// any point leaves DIR/latest naming a complete checkpoint, the previous one or the new one.
/// Numbers that are not finite are written as the strings "nan", "inf" and "-inf".
/// @endverbatim
#pragma once

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "io/checkpoint_lock.h"
#include "io/checkpoint_writer.h"
#include "model/sequential.h"

namespace normlab {

/// What load_checkpoint() returns beside the state it restores into the model.
struct Checkpoint {
  std::filesystem::path path;  ///< the checkpoint read: DIR/step-N
  std::int64_t step = 0;       ///< optimizer steps it was taken after
  FitState fit;                ///< where the fit stood: pass it as FitOptions::resume_from
  nlohmann::json run;          ///< what save_checkpoint() was given as `run`
  nlohmann::json metadata;     ///< what save_checkpoint() was given as `metadata`
};

/// Writes a checkpoint of `model` (compiled; weights, non-trainable state, optimizer state and
/// Rng) at position `fit` into DIR atomically (see above) and returns its path, DIR/step-N.
/// `run` (a JSON object) describes the run, for the caller to compare on resuming; `metadata`
/// is saved with the model (save_model's). A checkpoint of the same step as DIR/latest is kept
/// as it is.
std::filesystem::path save_checkpoint(Sequential& model, const FitState& fit,
                                      const std::filesystem::path& dir,
                                      const nlohmann::json& run = nlohmann::json::object(),
                                      const nlohmann::json& metadata = nlohmann::json::object());

/// The newest complete checkpoint in DIR (what DIR/latest names), or nullopt when DIR holds
/// none yet; a DIR/latest that names no checkpoint is an Error.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& dir);

/// Restores the newest checkpoint in DIR into `model`, which must have the same layers and be
/// compiled with an optimizer of the same class: weights, non-trainable state, optimizer slots
/// and iterations, and the model's Rng. Every file is read and checked first; a missing,
/// truncated or malformed one is an Error naming the file and the field, and leaves the model
/// as it was.
Checkpoint load_checkpoint(Sequential& model, const std::filesystem::path& dir);

}  // namespace normlab
