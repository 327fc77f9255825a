/// @file
/// @verbatim
/// A whole training run in one JSON file, in sections that follow Keras' own serialization
/// (docs/config.md describes every key, its type, default and Keras equivalent):
///
///   {"description": "free text, ignored",
///    "model": {"input_dim": 10, "layers": [{"class_name": "Dense", "config": {...}}, ...]}
///             | a Keras Sequential topology (model.to_json()) | "path/to/saved_model_dir",
///    "initial_weights": "path/to/saved_model_dir",                       (optional)
///    "compile": {"optimizer": "adam" | {"class_name": "Adam", "config": {...}},
///                "loss": "binary_crossentropy" | {"class_name": "BinaryCrossentropy",
///                                                 "config": {"from_logits": true}},
///                "metrics": ["accuracy"]},
///    "data": {"train": SOURCE, "validation": SOURCE | "validation_split": 0.1},
///    "fit": {"batch_size": 32, "epochs": 10, "steps_per_epoch": null, "shuffle": true,
///            "seed": 0, "verbose": 1, "class_weight": {"1": 10.0},
///            "callbacks": [{"class_name": "CSVLogger", "config": {"filename": "log.csv"}}]}}
///
///   SOURCE = {"csv": "train.csv", "label_columns": ["y"]}
///          | {"generator": "imbalanced", "seed": 1}
///          | {"generator": "regression", "seed": 1, "rows": 1000, "features": 10, "targets": 64}
///
/// Loading reads and checks everything before any training starts: the model is built with its
/// initial weights and compiled, the data are read and their widths checked against the model,
/// the callbacks are created. Relative paths resolve against the config file's folder. Every
/// mistake is an Error naming the JSON path:
///   model.layers[2].config.momentum: expected a number in [0, 1), got 1.5
/// (load_train_config puts the file name in front). "fit.seed" seeds the run: the initial
/// weights and the shuffling.
/// @endverbatim
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "model/callbacks.h"
#include "model/sequential.h"

namespace normlab {

/// Values given on the command line, which replace the config's.
struct TrainOverrides {
  /// fit.epochs.
  std::optional<int> epochs;
  /// fit.seed.
  std::optional<std::uint64_t> seed;
  /// fit.verbose.
  std::optional<int> verbose;
};

/// A training run read from a config: the model, its data, the fit options and callbacks.
struct TrainConfig {
  std::string source;       ///< the config file, or what stands for it, as messages name it
  std::string description;  ///< the config's "description", or empty
  Sequential model;         ///< built, initial weights loaded, compiled
  /// data.train, weighted by data.train's sample weights if any.
  Dataset train;
  std::optional<Dataset> validation;  ///< "validation", or the split-off "validation_split" rows
  ///@{
  /// Column names of x and y: the CSV header's, or x0.. and y (y0.. for several targets) for
  /// generated data.
  std::vector<std::string> feature_columns, label_columns;
  ///@}
  FitOptions fit;  ///< without validation data and callbacks: fit_options() adds them
  std::vector<std::unique_ptr<Callback>> callbacks;  ///< "fit.callbacks", then any added later

  /// The options to pass to model.fit(train, ...): fit with the validation data and every
  /// callback attached (pointers into this config, which must outlive the fit).
  FitOptions fit_options() const;
};

/// Parses a config; base_dir resolves relative paths (empty: the current folder), display_name
/// prefixes nothing here (the messages are bare JSON paths) but becomes TrainConfig::source.
TrainConfig train_config_from_json(const nlohmann::json& config,
                                   const std::filesystem::path& base_dir,
                                   const std::string& display_name,
                                   const TrainOverrides& overrides = {});
/// Reads and parses the file; every message starts with the file's name ("cfg.json: fit...").
TrainConfig load_train_config(const std::filesystem::path& path,
                              const TrainOverrides& overrides = {});
/// The same for config text in memory (the built-in default).
TrainConfig parse_train_config(const std::string& text, const std::filesystem::path& base_dir,
                               const std::string& display_name,
                               const TrainOverrides& overrides = {});

/// Callbacks by Keras class name from {"class_name": ..., "config": {...}}: "CSVLogger"
/// {filename, separator, append}, "PreciseBN" {every_epochs, batches, batch_size} (its training
/// inputs come from TrainConfig::fit_options()), "StepLogger" {filename} and "TerminateOnNaN" {};
/// an unknown name is an error that lists the known ones. Relative file names resolve against
/// base_dir.
std::unique_ptr<Callback> callback_from_json(const nlohmann::json& value, const std::string& path,
                                             const std::filesystem::path& base_dir);

}  // namespace normlab
