/// @file
/// @verbatim
/// Framework presets: the settings that make a normlab model train as Keras 3, tf.keras 2.x,
/// PyTorch or TensorFlow.js would, given in a model as {"input_dim", "layers", "preset": NAME}.
///
///                       keras3 / tf_keras     pytorch                   tfjs
///   BN momentum         0.99                  0.9 (torch momentum 0.1)  0.99
///   BN epsilon          1e-3                  1e-5                      1e-3
///   BN variance update  "biased"              "unbiased"                "biased"
///   BN batch of one     "zero_variance"       "error"                   "zero_variance"
///   Dense initializers  glorot_uniform/zeros  torch_uniform/torch_uniform  glorot_uniform/zeros
///   Adam epsilon        1e-7                  1e-8                      1e-7
///   Adam eps placement  "keras"               "pytorch"                 "pytorch"
/// (TensorFlow.js draws Dense kernels from glorot_normal, which normlab does not have; its preset
/// keeps glorot_uniform.) A setting the model's JSON gives itself wins over the preset's.
///
/// Momentum conventions: BatchNormalization's "momentum" is Keras' (the weight the moving average
/// keeps); PyTorch's is the weight of the new batch, its own key "pytorch_momentum" = 1 - momentum.
/// Under the pytorch preset a BatchNormalization "momentum" is an error, so that a PyTorch
/// momentum of 0.1 never silently becomes a Keras momentum of 0.1.
/// @endverbatim
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace normlab {

/// One column of the table above.
struct PresetSettings {
  /// The preset's name: "keras3", "tf_keras", "pytorch" or "tfjs".
  std::string name;
  double bn_momentum;  ///< Keras' convention
  /// BatchNormalization epsilon.
  double bn_epsilon;
  /// BatchNormalization moving_variance_update.
  std::string moving_variance_update;
  /// BatchNormalization single_sample_policy.
  std::string single_sample_policy;
  ///@{
  std::string kernel_initializer, bias_initializer;  ///< Dense
  ///@}
  /// Adam epsilon.
  double adam_epsilon;
  std::string adam_epsilon_placement;  ///< "keras" | "pytorch", Adam's epsilon_placement key
};

/// The settings of "keras3", "tf_keras", "pytorch" or "tfjs"; any other name throws, naming
/// `path` and listing the four.
const PresetSettings& preset_settings(const std::string& preset, const std::string& path);

/// The model JSON (normlab's form, {"input_dim", "layers": [{"class_name", "config"}...]}) with
/// the preset's settings filled into every Dense and BatchNormalization config that does not give
/// them, and its "preset" key removed. `path` names the model in messages ("model").
nlohmann::json apply_preset(const std::string& preset, const nlohmann::json& model,
                            const std::string& path);

/// An optimizer as Keras serializes it ("adam" or {"class_name": "Adam", "config": {...}}) with
/// the preset's Adam epsilon and epsilon_placement filled in where it does not give them; other
/// optimizers are returned unchanged. `path` names it in messages ("compile.optimizer").
nlohmann::json apply_preset_to_optimizer(const std::string& preset, const nlohmann::json& optimizer,
                                         const std::string& path);

}  // namespace normlab
