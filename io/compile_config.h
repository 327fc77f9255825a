/// @file
/// @verbatim
/// A model's compile settings (loss, optimizer, metrics) <-> JSON, in the two places they are
/// written:
///   a training config's "compile" section (docs/config.md):
///     {"optimizer": "adam" | {"class_name": "Adam", "config": {...}},
///      "loss": "binary_crossentropy" | {"class_name": "BinaryCrossentropy",
///                                       "config": {"from_logits": true}},
///      "metrics": ["accuracy"], "epsilon": 1e-7}
///   a saved model's trainingConfig (TensorFlow.js' model.json):
///     {"loss": "binary_crossentropy", "metrics": ["accuracy"],
///      "optimizer_config": {"class_name": "Adam", "config": {...}}}
///     where TensorFlow.js' camelCase optimizer keys are read as Keras' snake_case ones, and
///     from_logits and the clipping epsilon come from userDefinedMetadata.normlab.
/// Errors name the JSON path, what was found and what was expected.
/// @endverbatim
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "model/sequential.h"

namespace normlab {

/// Compiles `model` from a training config's "compile" section. `preset`: the model's framework
/// preset ("" for none), which also sets Adam's epsilon.
void compile_from_config(const nlohmann::json& value, const std::string& preset, Sequential& model);

/// Compiles `model` from a saved model's trainingConfig; `path` names it in messages.
void compile_from_training_config(Sequential& model, const nlohmann::json& config,
                                  const std::string& path, bool from_logits, float clip_epsilon);
/// The trainingConfig of a compiled model: its loss, metrics and optimizer_config.
nlohmann::json training_config_to_json(Sequential& model);

}  // namespace normlab
