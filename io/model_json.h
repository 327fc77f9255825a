/// @file
/// model.json read and checked (the format: io/model_file.h): its weightsManifest (plain file
/// names, float32, positive shapes of at most kMaxWeightFloats values in all), its trainingConfig
/// and userDefinedMetadata.normlab. The weight values themselves stay on disk
/// (io/weight_files.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/model_file.h"
#include "model/losses.h"

namespace normlab {

inline const std::string kModelFile = "model.json";     ///< a saved model's topology and manifest
inline const std::string kWeightsFile = "weights.bin";  ///< what save_model writes the weights to
/// The largest model.json normlab reads: a bound on what a hostile file can make it allocate.
inline constexpr std::uintmax_t kMaxModelJsonBytes = std::uintmax_t{64} << 20;

/// One weight of weightsManifest, placed in the data of all groups read one after another.
/// TensorFlow.js also lists its optimizer's state there ("group": "optimizer", float32 or int32),
/// which normlab skips: a loaded model gets a fresh optimizer.
struct ManifestWeight {
  std::string name;                ///< "<layer>/<weight>": "dense/kernel"
  std::string where;               ///< its JSON path in model.json
  std::vector<std::size_t> shape;  ///< Keras' shape: [units] or [inputs, units]
  ///@{
  /// Where it starts in the groups' data and how many values it has, in 4-byte values.
  std::size_t offset = 0, count = 0;
  ///@}
  bool optimizer = false;  ///< TensorFlow.js' optimizer state, which normlab skips
};

/// One group of weightsManifest: its files, read one after another, hold its weights.
struct ManifestGroup {
  std::vector<std::string> paths;  ///< plain file names in the model's directory
  std::string where;               ///< its JSON path in model.json
  std::size_t bytes = 0;           ///< what its weights take, which its files must hold exactly
};

/// model.json, read and checked; the weight values stay on disk until they are copied.
struct ModelJson {
  nlohmann::json document;              ///< the whole file
  std::string topology_path;            ///< "modelTopology", as messages name it
  std::vector<ManifestGroup> groups;    ///< weightsManifest's groups
  std::vector<ManifestWeight> weights;  ///< every weight of every group, in order
  std::size_t total_floats = 0;         ///< what the weights hold in all
  nlohmann::json layer_configs = nlohmann::json::object();  ///< normlab.layers.NAME.config
  nlohmann::json layer_state = nlohmann::json::object();    ///< normlab.layers.NAME.state
  bool loss_from_logits = false;                            ///< normlab.loss_from_logits
  float loss_clip_epsilon = kKerasEpsilon;                  ///< normlab.loss_clip_epsilon
  ModelInfo info;                                           ///< what read_model_info() returns

  /// modelTopology, the model's Keras topology.
  const nlohmann::json& topology() const { return document.at("modelTopology"); }
};

/// Checks a model.json document; `path` prefixes its JSON paths in messages ("" for a file).
ModelJson parse_model_json(nlohmann::json document, const std::string& path);
/// model.json's text parsed and checked; it must have a weightsManifest.
ModelJson model_json_from_text(std::string_view text);
/// DIR/model.json read (at most kMaxModelJsonBytes), parsed and checked; messages name the file.
ModelJson read_model_json(const std::filesystem::path& dir);

}  // namespace normlab
