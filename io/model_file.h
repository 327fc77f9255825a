// Models on disk, in the TensorFlow.js Layers format, so that TensorFlow.js (tf.loadLayersModel)
// and Keras tooling read what normlab writes, and normlab reads what they write:
//
//   DIR/model.json          {"format": "layers-model", "generatedBy": "normlab <version>",
//                            "convertedBy": null, "modelTopology": <Keras Sequential topology>,
//                            "weightsManifest": [{"paths": ["weights.bin"],
//                                                 "weights": [{"name", "shape", "dtype"}, ...]}],
//                            "userDefinedMetadata": {...normlab's own state...}}
//   DIR/weights.bin         every weight in manifest order, little-endian float32
//
// Weight names are Keras': "<layer name>/kernel", "<layer>/bias", "<layer>/gamma", "<layer>/beta",
// "<layer>/moving_mean", "<layer>/moving_variance". Every file is written to a temporary name
// and renamed into place, so an interrupted save never leaves a half-written model.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "model/sequential.h"

namespace normlab {

// The model part of a config or a saved model, in any of the forms normlab accepts:
//   {"input_dim": 10, "layers": [{"class_name": "Dense", "config": {...}}, ...]}   (normlab's)
//   a Keras Sequential topology as model.to_json() writes it: tf.keras 2.x / TensorFlow.js
//     (batch_input_shape on the first layer) or Keras 3 (an InputLayer with batch_shape)
//   a string: the path of a saved model directory (relative to base_dir), weights included
// `path` names the JSON value in messages ("model"); `seed` draws the initial weights.
Sequential model_from_json(const nlohmann::json& model, const std::string& path,
                           const std::filesystem::path& base_dir, std::uint64_t seed);

// The Keras (tf.keras 2.x / TensorFlow.js) Sequential topology of a model.
nlohmann::json model_to_topology(const Sequential& model);

// Writes DIR/model.json and DIR/weights.bin atomically; `metadata` goes into
// userDefinedMetadata beside normlab's own entries (version, per-layer state).
void save_model(Sequential& model, const std::filesystem::path& dir,
                const nlohmann::json& metadata = nlohmann::json::object());
// Reads a saved model; every malformed field is an Error naming the file and the field.
Sequential load_model(const std::filesystem::path& dir);
// Copies a saved model's weights into `model`, whose layers must match by order, class and
// every weight's shape (the config's "initial_weights").
void load_weights(Sequential& model, const std::filesystem::path& dir);

}  // namespace normlab
