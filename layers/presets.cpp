#include "layers/presets.h"

#include "core/config_reader.h"
#include "core/error.h"

namespace normlab {

namespace {
const PresetSettings kPresets[] = {
    {"keras3", 0.99, 1e-3, "biased", "zero_variance", "glorot_uniform", "zeros", 1e-7, "keras"},
    {"tf_keras", 0.99, 1e-3, "biased", "zero_variance", "glorot_uniform", "zeros", 1e-7, "keras"},
    {"pytorch", 0.9, 1e-5, "unbiased", "error", "torch_uniform", "torch_uniform", 1e-8, "pytorch"},
    {"tfjs", 0.99, 1e-3, "biased", "zero_variance", "glorot_uniform", "zeros", 1e-7, "pytorch"}};

void set_default(nlohmann::json& config, const char* key, const nlohmann::json& value) {
  if (!config.contains(key)) config[key] = value;
}
}  // namespace

const PresetSettings& preset_settings(const std::string& preset, const std::string& path) {
  for (const auto& p : kPresets)
    if (p.name == preset) return p;
  throw Error(path + ": unknown preset '" + preset +
              "'; expected one of \"keras3\", \"tf_keras\", \"pytorch\", \"tfjs\"");
}

nlohmann::json apply_preset(const std::string& preset, const nlohmann::json& model,
                            const std::string& path) {
  const PresetSettings& p = preset_settings(preset, path + ".preset");
  check(model.is_object() && model.contains("layers") && model["layers"].is_array(),
        path + ": a preset needs a model of the form {\"input_dim\": N, \"layers\": [...]}, got " +
            describe_json(model));
  nlohmann::json out = model;
  out.erase("preset");
  auto& layers = out["layers"];
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string where = path + ".layers[" + std::to_string(i) + "]";
    auto& layer = layers[i];
    if (!layer.is_object() || !layer.contains("class_name")) continue;  // the builder reports it
    if (!layer.contains("config") || layer["config"].is_null())
      layer["config"] = nlohmann::json::object();
    auto& config = layer["config"];
    if (!config.is_object()) continue;
    const auto& cls = layer["class_name"];
    if (cls == "Dense") {
      set_default(config, "kernel_initializer", p.kernel_initializer);
      set_default(config, "bias_initializer", p.bias_initializer);
    } else if (cls == "BatchNormalization") {
      if (p.name == "pytorch" && config.contains("momentum"))
        throw Error(where + ".config.momentum: under preset \"pytorch\" give pytorch_momentum " +
                    "(PyTorch's convention, the weight of the new batch: 0.1 is Keras' " +
                    "momentum 0.9), not momentum");
      if (!config.contains("pytorch_momentum")) set_default(config, "momentum", p.bn_momentum);
      set_default(config, "epsilon", p.bn_epsilon);
      set_default(config, "moving_variance_update", p.moving_variance_update);
      set_default(config, "single_sample_policy", p.single_sample_policy);
    }
  }
  return out;
}

nlohmann::json apply_preset_to_optimizer(const std::string& preset, const nlohmann::json& optimizer,
                                         const std::string& path) {
  const PresetSettings& p = preset_settings(preset, path);
  nlohmann::json out = optimizer;
  if (out.is_string()) {
    if (out != "adam" && out != "Adam") return out;
    out = {{"class_name", "Adam"}, {"config", nlohmann::json::object()}};
  }
  if (!out.is_object() || !out.contains("class_name") || out["class_name"] != "Adam") return out;
  if (!out.contains("config") || out["config"].is_null()) out["config"] = nlohmann::json::object();
  if (!out["config"].is_object()) return out;  // the optimizer's reader reports it
  set_default(out["config"], "epsilon", p.adam_epsilon);
  set_default(out["config"], "epsilon_placement", p.adam_epsilon_placement);
  return out;
}

}  // namespace normlab
