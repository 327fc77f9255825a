/// @file
/// @verbatim
/// Models on disk, in the TensorFlow.js Layers format, so that TensorFlow.js (tf.loadLayersModel)
/// and Keras tooling read what normlab writes, and normlab reads what they write:
///
///   DIR/model.json   {"modelTopology": <Keras Sequential topology, io/topology.h>,
///                     "format": "layers-model", "generatedBy": "normlab <version>",
///                     "convertedBy": null,
///                     "weightsManifest": [{"paths": ["weights.bin"],
///                                          "weights": [{"name", "shape", "dtype": "float32"},
///                                          ...]}],
///                     "trainingConfig": {"loss", "metrics", "optimizer_config"},  (when compiled)
///                     "userDefinedMetadata": {"normlab": {"version": "0.1.0",
///                                                         "layers": {...}}, ...the caller's...}}
///   DIR/weights.bin  every weight in manifest order, little-endian float32
///
/// Weight names are Keras': "<layer name>/kernel", "<layer>/bias", "<layer>/gamma", "<layer>/beta",
/// "<layer>/moving_mean", "<layer>/moving_variance". userDefinedMetadata.normlab.layers holds, per
/// layer name, what Keras has no place for: "config" (config keys Keras would refuse, such as
/// moving_variance_update) and "state" (non-trainable arrays other than moving_mean and
/// moving_variance, as lists of numbers). A from_logits loss is recorded as
/// userDefinedMetadata.normlab.loss_from_logits, since trainingConfig names the loss by a string.
///
/// Saving writes model.json.tmp-<pid> and weights.bin.tmp-<pid>, flushes both to the disk, then
/// renames the weights into place and model.json last: an interrupted save leaves the previous
/// model (or none), never a half-written file.
///
/// Reading checks everything before it allocates or changes anything: weightsManifest paths are
/// plain file names in DIR (no '/', no "..", no symbolic link leading out of DIR), dtypes are
/// float32, shapes are positive with at most kMaxWeightFloats values in all, model.json nests at
/// most 64 levels deep, the topology asks for no more weights than the manifest lists (a Dense
/// kernel of in x units floats at least), each group's files are exactly as long as its weights,
/// every weight a layer needs is there once with the layer's shape, and no weight is left over. The
/// format also admits several groups and shard files (what the TensorFlow.js converter writes):
/// their files are read one after another.
/// @endverbatim
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "io/topology.h"
#include "model/sequential.h"

namespace normlab {

/// The model part of a config or a saved model, in any of the forms normlab accepts:
///   {"input_dim": 10, "layers": [{"class_name": "Dense", "config": {...}}, ...]}   (normlab's)
///   a Keras Sequential topology as model.to_json() writes it: tf.keras 2.x / TensorFlow.js
///     (batch_input_shape on the first layer) or Keras 3 (an InputLayer with batch_shape)
///   a whole model.json object (its modelTopology; its weights are not read)
///   a string: the path of a saved model directory (relative to base_dir), weights included,
///     as load_model() returns it
/// `path` names the JSON value in messages ("model"); `seed` draws the initial weights.
Sequential model_from_json(const nlohmann::json& model, const std::string& path,
                           const std::filesystem::path& base_dir, std::uint64_t seed);

/// Writes DIR/model.json and DIR/weights.bin atomically, creating DIR if needed; `metadata`
/// (an object) goes into userDefinedMetadata beside normlab's own "normlab" entry, except
/// metadata.normlab.folded (io/fold.h), which joins that entry.
void save_model(Sequential& model, const std::filesystem::path& dir,
                const nlohmann::json& metadata = nlohmann::json::object());

/// Reads a saved model, weights and non-trainable state included. With `compile` and a
/// trainingConfig in the file, the model comes back compiled with that loss, those metrics and
/// a fresh optimizer of that configuration (optimizer state is not saved), as Keras'
/// load_model(compile=True) does; TensorFlow.js' camelCase optimizer keys (learningRate, beta1,
/// beta2) are read too, and its Adam keeps TensorFlow.js' epsilon placement.
/// Every malformed field is an Error naming the file and the field.
Sequential load_model(const std::filesystem::path& dir, bool compile = true);

/// load_model on a model.json and its weight files held in memory: `weight_files` maps each file
/// name weightsManifest lists to the file's bytes. The same checks, without the file system
/// (symbolic links and path containment do not arise); messages name "model.json" and the
/// weight file names alone. For tests and fuzzing of the model loader.
Sequential load_model_from_memory(std::string_view model_json,
                                  const std::map<std::string, std::string_view>& weight_files,
                                  bool compile = true);

/// Copies a saved model's weights into `model`, whose layers must match the saved ones by order,
/// class and every weight's shape (the config's "initial_weights"). Nothing changes unless every
/// check passes.
void load_weights(Sequential& model, const std::filesystem::path& dir);

/// What a saved model holds beside its layers and weights.
struct ModelInfo {
  std::string generated_by;        ///< "normlab 0.1.0", "TensorFlow.js tfjs-layers v4.22.0", ...
  std::string normlab_version;     ///< the normlab that saved it; empty for other programs
  nlohmann::json training_config;  ///< Keras' trainingConfig; null when saved uncompiled
  nlohmann::json metadata;         ///< userDefinedMetadata without normlab's entry (an object)
  /// userDefinedMetadata.normlab.folded: what unfolding needs (io/fold.h); null when not folded.
  nlohmann::json folded;
};
/// Reads the ModelInfo of the saved model in `dir`, without its weights.
ModelInfo read_model_info(const std::filesystem::path& dir);

}  // namespace normlab
