/// @file
/// Optimizers from their Keras serialization: "adam", or {"class_name": "Adam", "config":
/// {"learning_rate": 0.001, ...}} with Keras' argument names and defaults.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "optim/optimizer.h"

namespace normlab {

/// `path` names the value in messages ("compile.optimizer").
std::unique_ptr<Optimizer> optimizer_from_json(const nlohmann::json& value,
                                               const std::string& path);
/// {"class_name": ..., "config": optimizer.get_config()}
nlohmann::json optimizer_to_json(const Optimizer& optimizer);

}  // namespace normlab
