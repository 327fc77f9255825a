#include "layers/registry.h"

#include <functional>
#include <map>

#include "core/config_reader.h"
#include "core/error.h"
#include "layers/activation.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "layers/initializers.h"

namespace normlab {

namespace {
// Keys every Keras layer config may carry that do not change what the layer computes.
const std::vector<std::string> kCommonIgnored = {"dtype", "batch_input_shape", "batch_shape",
                                                 "input_shape", "input_dim"};
const char* kUnsupported = "regularizers and constraints are not supported";

void read_common(ConfigReader& r, Layer& layer) {
  layer.set_name(r.string("name", ""));
  layer.set_trainable(r.boolean("trainable", true));
  r.ignore(kCommonIgnored);
}

std::unique_ptr<Layer> dense_from_config(ConfigReader& r) {
  DenseConfig c;
  c.units = static_cast<std::size_t>(r.integer("units", 0, 1, 1 << 24));
  if (!r.has("units")) r.fail("units", "a positive integer");
  c.activation = r.string("activation", "linear", {"linear", "relu", "sigmoid", "tanh", "softmax"});
  c.use_bias = r.boolean("use_bias", true);
  c.kernel_initializer = read_initializer(r, "kernel_initializer", "glorot_uniform");
  c.bias_initializer = read_initializer(r, "bias_initializer", "zeros");
  r.require_null({"kernel_regularizer", "bias_regularizer", "activity_regularizer",
                  "kernel_constraint", "bias_constraint", "lora_rank"},
                 kUnsupported);
  auto layer = std::make_unique<Dense>(c);
  read_common(r, *layer);
  return layer;
}

std::unique_ptr<Layer> batch_normalization_from_config(ConfigReader& r) {
  BatchNormConfig c;
  // Statistics over the last axis: -1, or 1 for the (N, D) inputs of a Sequential MLP.
  if (r.has("axis")) {
    const auto& axis = r.raw("axis");
    const bool last = axis == -1 || axis == 1 || axis == nlohmann::json::array({-1}) ||
                      axis == nlohmann::json::array({1});
    if (!last) r.fail("axis", "-1 (the feature axis)");
  }
  c.momentum = static_cast<float>(r.number("momentum", 0.99, 0.0, 1.0, false, true));
  c.epsilon = static_cast<float>(r.number("epsilon", 1e-3, 0.0, 1e30, true, false));
  c.center = r.boolean("center", true);
  c.scale = r.boolean("scale", true);
  c.gamma_initializer = read_initializer(r, "gamma_initializer", "ones");
  c.beta_initializer = read_initializer(r, "beta_initializer", "zeros");
  c.moving_mean_initializer = read_initializer(r, "moving_mean_initializer", "zeros");
  c.moving_variance_initializer = read_initializer(r, "moving_variance_initializer", "ones");
  c.moving_variance_update =
      parse_variance_update(r.string("moving_variance_update", "biased", {"biased", "unbiased"}));
  r.require_null({"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"},
                 kUnsupported);
  if (r.boolean("synchronized", false)) r.fail("synchronized", "false in a single process");
  auto layer = std::make_unique<BatchNormalization>(c);
  read_common(r, *layer);
  return layer;
}

std::unique_ptr<Layer> activation_from_config(ConfigReader& r) {
  auto layer = std::make_unique<Activation>(
      r.string("activation", "linear", {"linear", "relu", "sigmoid", "tanh", "softmax"}));
  read_common(r, *layer);
  return layer;
}

using Factory = std::function<std::unique_ptr<Layer>(ConfigReader&)>;
const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"Dense", dense_from_config},
      {"BatchNormalization", batch_normalization_from_config},
      {"Activation", activation_from_config}};
  return table;
}
}  // namespace

std::unique_ptr<Layer> layer_from_config(const std::string& class_name,
                                         const nlohmann::json& config, const std::string& path) {
  const auto it = factories().find(class_name);
  if (it == factories().end()) {
    std::string known;
    for (const auto& [name, factory] : factories()) known += (known.empty() ? "" : ", ") + name;
    throw Error(path + ": unknown layer class '" + class_name + "'; expected one of " + known);
  }
  ConfigReader reader(config.is_null() ? nlohmann::json::object() : config, path);
  auto layer = it->second(reader);
  reader.finish();
  return layer;
}

nlohmann::json layer_to_json(const Layer& layer) {
  return {{"class_name", layer.class_name()}, {"config", layer.get_config()}};
}

}  // namespace normlab
