/// @file
/// The weight files a model.json's weightsManifest names, read only after every check: each
/// file a plain name in the model's directory or a symbolic link to a file in it, each group's
/// files exactly as long as its weights, every weight a layer needs there once with the layer's
/// shape, and no weight left over. Then the values are copied into the model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/layer.h"
#include "io/model_json.h"
#include "model/sequential.h"

namespace normlab {

/// A Keras weight (trainable, or moving_mean / moving_variance), listed in weightsManifest;
/// any other non-trainable array of a layer is normlab state, kept in
/// userDefinedMetadata.normlab.layers.
bool is_keras_weight(const Variable& v);
/// Keras' shape of a variable: [cols] for vectors (bias, gamma), [rows, cols] for kernels.
std::vector<std::size_t> shape_of(const Variable& v);

/// The weight files weightsManifest names: in a directory, or held in memory by name (then
/// `dir` is empty and messages name the files alone).
struct WeightFiles {
  std::filesystem::path dir;  ///< the model's directory
  /// The files by name when they are in memory (load_model_from_memory), else null.
  const std::map<std::string, std::string_view>* memory = nullptr;

  /// DIR/name.
  std::filesystem::path path(const std::string& name) const { return dir / name; }
  /// Its size in bytes; an Error when it is missing or leads out of the directory.
  std::uintmax_t size(const std::string& name) const;
  /// Reads exactly `bytes` bytes, which size() gave, into `out`.
  void read(const std::string& name, char* out, std::uintmax_t bytes) const;
};

/// Copies the file's weights into `target` once every check has passed. `saved`, the model the
/// file's topology describes, is index-aligned with `target` and names the weights
/// ("<layer>/<name>").
void copy_weights(Sequential& target, const Sequential& saved, const ModelJson& m,
                  const WeightFiles& files);

}  // namespace normlab
