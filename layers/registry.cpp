#include "layers/registry.h"

#include <functional>
#include <map>

#include "core/config_reader.h"
#include "core/error.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "layers/initializers.h"
#include "layers/layer_normalization.h"

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

// Statistics over the last axis: -1, or 1 for the (N, D) inputs of a Sequential MLP (also as
// the one-element list that legacy configs write).
void read_feature_axis(ConfigReader& r) {
  if (!r.has("axis")) return;
  const auto& axis = r.raw("axis");
  const bool last = axis == -1 || axis == 1 || axis == nlohmann::json::array({-1}) ||
                    axis == nlohmann::json::array({1});
  if (!last) r.fail("axis", "-1 (the feature axis)");
}

std::unique_ptr<Layer> batch_normalization_from_config(ConfigReader& r) {
  BatchNormConfig c;
  read_feature_axis(r);
  // momentum in Keras' convention, or pytorch_momentum = 1 - momentum in PyTorch's; null in
  // either is the cumulative average (PyTorch's momentum=None).
  if (r.contains("momentum") && r.contains("pytorch_momentum"))
    r.fail("pytorch_momentum",
           "no pytorch_momentum beside momentum (give one of them; momentum = 1 - "
           "pytorch_momentum)");
  if (r.contains("pytorch_momentum")) {
    c.cumulative_average = r.raw("pytorch_momentum").is_null();
    c.momentum =
        static_cast<float>(1.0 - r.number("pytorch_momentum", 0.01, 0.0, 1.0, true, false));
  } else {
    c.cumulative_average = r.contains("momentum") && r.raw("momentum").is_null();
    c.momentum = static_cast<float>(r.number("momentum", 0.99, 0.0, 1.0, false, true));
  }
  c.epsilon = static_cast<float>(r.number("epsilon", 1e-3, 0.0, 1e30, true, false));
  c.center = r.boolean("center", true);
  c.scale = r.boolean("scale", true);
  c.gamma_initializer = read_initializer(r, "gamma_initializer", "ones");
  c.beta_initializer = read_initializer(r, "beta_initializer", "zeros");
  c.moving_mean_initializer = read_initializer(r, "moving_mean_initializer", "zeros");
  c.moving_variance_initializer = read_initializer(r, "moving_variance_initializer", "ones");
  c.moving_variance_update = parse_variance_update(
      r.string("moving_variance_update", "biased", {"biased", "unbiased", "keras2"}));
  c.moving_average_debias = r.boolean("moving_average_debias", false);
  c.renorm = r.boolean("renorm", false);
  if (r.has("renorm_clipping")) {
    ConfigReader clip(r.raw("renorm_clipping"), r.path_of("renorm_clipping"));
    const auto bound = [&](const char* key, double min, double max) -> std::optional<float> {
      const bool given = clip.has(key);
      const double value = clip.number(key, 0.0, min, max);
      return given ? std::optional<float>(static_cast<float>(value)) : std::nullopt;
    };
    c.renorm_clipping.rmax = bound("rmax", 1.0, 1e30);
    c.renorm_clipping.rmin = bound("rmin", 0.0, 1.0);
    c.renorm_clipping.dmax = bound("dmax", 0.0, 1e30);
    clip.finish();
  }
  c.renorm_momentum = static_cast<float>(r.number("renorm_momentum", 0.99, 0.0, 1.0, false, true));
  if (r.has("renorm_schedule")) {
    ConfigReader sched(r.raw("renorm_schedule"), r.path_of("renorm_schedule"));
    RenormSchedule s;
    s.warmup_steps = sched.integer("warmup_steps", s.warmup_steps, 0, 1 << 30);
    s.rmax_steps = sched.integer("rmax_steps", s.rmax_steps, 1, 1 << 30);
    s.dmax_steps = sched.integer("dmax_steps", s.dmax_steps, 1, 1 << 30);
    s.rmax = static_cast<float>(sched.number("rmax", s.rmax, 1.0, 1e30));
    s.dmax = static_cast<float>(sched.number("dmax", s.dmax, 0.0, 1e30));
    sched.finish();
    c.renorm_schedule = s;
  }
  c.virtual_batch_size = static_cast<std::size_t>(r.integer("virtual_batch_size", 0, 1, 1 << 24));
  c.virtual_batch_size_merge =
      r.string("virtual_batch_size_remainder", "error", {"error", "merge"}) == "merge";
  c.freeze_statistics = r.boolean("freeze_statistics", false);
  c.use_moving_statistics_in_training = r.boolean("use_moving_statistics_in_training", false);
  c.weighted_statistics = r.boolean("weighted_statistics", false);
  c.synchronized = r.boolean("synchronized", false);
  c.single_sample_policy = parse_single_sample_policy(
      r.string("single_sample_policy", "zero_variance", {"zero_variance", "error", "inference"}));
  r.require_null({"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"},
                 kUnsupported);
  auto layer = with_context(r.path(), [&] { return std::make_unique<BatchNormalization>(c); });
  read_common(r, *layer);
  return layer;
}

// keras/src/layers/normalization/layer_normalization.py
std::unique_ptr<Layer> layer_normalization_from_config(ConfigReader& r) {
  LayerNormConfig c;
  read_feature_axis(r);
  c.epsilon = static_cast<float>(r.number("epsilon", 1e-3, 0.0, 1e30, true, false));
  c.center = r.boolean("center", true);
  c.scale = r.boolean("scale", true);
  c.rms_scaling = r.boolean("rms_scaling", false);
  c.gamma_initializer = read_initializer(r, "gamma_initializer", "ones");
  c.beta_initializer = read_initializer(r, "beta_initializer", "zeros");
  r.require_null({"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"},
                 kUnsupported);
  auto layer = with_context(r.path(), [&] { return std::make_unique<LayerNormalization>(c); });
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
      {"LayerNormalization", layer_normalization_from_config},
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
  // A named copy: the reader keeps a reference, which a temporary would leave dangling.
  const nlohmann::json object = config.is_null() ? nlohmann::json::object() : config;
  ConfigReader reader(object, path);
  auto layer = it->second(reader);
  reader.finish();
  return layer;
}

nlohmann::json layer_to_json(const Layer& layer) {
  return {{"class_name", layer.class_name()}, {"config", layer.get_config()}};
}

}  // namespace normlab
