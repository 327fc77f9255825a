/// @file
/// @verbatim
/// Sequential topologies in JSON: the forms normlab reads, and the Keras form it writes.
///
/// Read (sequential_from_topology):
///   normlab's own      {"input_dim": 10, "layers": [{"class_name": "Dense", "config": {...}},
///   ...]} tf.keras 2.x and TensorFlow.js, as model.to_json() writes it:
///                      {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
///                        {"class_name": "Dense", "config": {"batch_input_shape": [null, 10],
///                        ...}},
///                        ...]}, "keras_version": ..., "backend": ...}
///                      (the first layer may give input_shape [10] or input_dim 10 instead, or an
///                      InputLayer may come first; the TensorFlow.js converter's
///                      {"model_config": {...}} wrapper is unwrapped)
///   Keras 3            {"module": "keras", "class_name": "Sequential", "config": {"name",
///                        "trainable", "dtype", "layers": [{"module": "keras.layers",
///                        "class_name": "InputLayer", "config": {"batch_shape": [null, 10]}},
///                        {"module": ..., "class_name": "Dense", "config": {...},
///                         "registered_name": null, "build_config": {...}}, ...]}}
/// Each layer's config goes to layer_from_config (layers/registry.h), which rejects unknown keys;
/// only the input-shape keys and Keras 3's wrapper keys (module, registered_name, build_config)
/// are taken off first. The input is one feature dimension, [null, N]: normlab models map rows
/// of N features. Initializers Keras writes as VarianceScaling are read by their normlab names
/// when they are the same distribution (glorot_uniform, he_uniform, torch_uniform).
///
/// Write (model_to_topology): the TensorFlow.js / tf.keras 2.x form above, exactly as
/// TensorFlow.js 4.22 writes it (null regularizers and constraints, batch_input_shape and dtype
/// on the first layer, initializers as {"class_name", "config"} objects). Config keys normlab adds
/// to Keras' layers (BatchNormalization's moving_variance_update, renorm, ...) and Keras arguments
/// normlab sets to null (momentum null: a cumulative average) are left out, since Keras refuses
/// unknown layer arguments; normlab_layer_configs() returns them, for the model file's
/// userDefinedMetadata, and sequential_from_topology() takes them back.
/// @endverbatim
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "model/sequential.h"

namespace normlab {

///@{
/// Limits on what a topology may ask for, so that a hostile file cannot make normlab allocate
/// without bound: layers in a model, and floats in all the weights together (1 GiB).
inline constexpr std::size_t kMaxLayers = 1000;
inline constexpr std::size_t kMaxWeightFloats = std::size_t{1} << 28;
///@}

/// Builds the model a topology describes, with fresh weights drawn from `seed`. `path` names
/// the topology in messages ("model"); `layer_configs` maps a layer name to config keys merged
/// into that layer's config before it is built (normlab_layer_configs' output). With
/// `weights_follow` (saved weights will replace the fresh ones) an initializer normlab cannot
/// draw, such as TensorFlow.js' default glorot_normal, is read as the layer's default instead of
/// being an error. `max_floats` bounds the weights from below: a layer whose kernel (in x out
/// floats, for a layer that changes the width) would take the kernels' total past it is refused
/// before anything is allocated; a model file passes the number of floats its manifest lists.
Sequential sequential_from_topology(const nlohmann::json& topology, const std::string& path,
                                    std::uint64_t seed,
                                    const nlohmann::json& layer_configs = nlohmann::json::object(),
                                    bool weights_follow = false,
                                    std::size_t max_floats = kMaxWeightFloats);

/// The Keras (tf.keras 2.x / TensorFlow.js) Sequential topology of a model.
nlohmann::json model_to_topology(const Sequential& model);

/// {"<layer name>": {"moving_variance_update": "unbiased"}, ...}: every config key of the
/// model's layers that model_to_topology leaves out; layers without such keys are not listed.
nlohmann::json normlab_layer_configs(const Sequential& model);

/// A JSON document with every float-valued number that is exactly a float32 rewritten as the
/// shortest decimal that reads back as that float (0.99f is written 0.99, not
/// 0.9900000095367432); reading it as a float gives the same bits.
nlohmann::json shortest_floats(nlohmann::json value);

}  // namespace normlab
