/// @file
/// Builds layers from their Keras serialization, {"class_name": "Dense", "config": {...}}: one
/// factory per class name, each validating every key and returning a ready layer. Keras'
/// argument names and defaults; settings normlab cannot honour are errors, never ignored.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/layer.h"

namespace normlab {

/// `path` names the config object in messages ("model.layers[2].config").
std::unique_ptr<Layer> layer_from_config(const std::string& class_name,
                                         const nlohmann::json& config, const std::string& path);
/// {"class_name": ..., "config": layer.get_config()}
nlohmann::json layer_to_json(const Layer& layer);

}  // namespace normlab
