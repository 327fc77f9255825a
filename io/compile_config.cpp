#include "io/compile_config.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <vector>

#include "core/config_reader.h"
#include "core/error.h"
#include "io/topology.h"
#include "layers/presets.h"
#include "model/losses.h"
#include "model/metrics.h"
#include "optim/registry.h"

namespace normlab {

using json = nlohmann::json;

namespace {

// Every name Keras accepts for a loss normlab has, string or class name -> make_loss() name.
const std::map<std::string, std::string>& loss_names() {
  static const std::map<std::string, std::string> names = {
      {"mse", "mean_squared_error"},
      {"mean_squared_error", "mean_squared_error"},
      {"MeanSquaredError", "mean_squared_error"},
      {"binary_crossentropy", "binary_crossentropy"},
      {"BinaryCrossentropy", "binary_crossentropy"},
      {"categorical_crossentropy", "categorical_crossentropy"},
      {"CategoricalCrossentropy", "categorical_crossentropy"},
      {"sparse_categorical_crossentropy", "sparse_categorical_crossentropy"},
      {"SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"}};
  return names;
}

// The loss names a string may give (snake_case) or the class names of the object form.
std::vector<std::string> loss_keys(bool class_names) {
  std::vector<std::string> keys;
  for (const auto& [key, name] : loss_names())
    if ((std::isupper(static_cast<unsigned char>(key[0])) != 0) == class_names) keys.push_back(key);
  return keys;
}

// "binary_crossentropy", or Keras' serialized loss object:
//   {"class_name": "BinaryCrossentropy", "config": {"from_logits": true, "reduction": ...}}
// compile.epsilon is Keras' backend epsilon() (keras.json's "epsilon"), the probabilities'
// clipping bound.
std::unique_ptr<Loss> read_loss(ConfigReader& compile) {
  const std::string path = compile.path_of("loss");
  const auto clip_epsilon =
      static_cast<float>(compile.number("epsilon", kKerasEpsilon, 0.0, 0.5, true, true));
  const json& v = compile.raw("loss");
  if (v.is_null() || v.is_string()) {
    if (v.is_null()) compile.fail("loss", "a loss such as \"binary_crossentropy\" or \"mse\"");
    return make_loss(loss_names().at(compile.string("loss", "", loss_keys(false))), false,
                     clip_epsilon);
  }
  if (!v.is_object())
    compile.fail("loss",
                 "a loss name or {\"class_name\": \"BinaryCrossentropy\", \"config\": {...}}");
  ConfigReader outer(v, path);
  const std::string class_name = outer.string("class_name", "", loss_keys(true));
  if (class_name.empty())
    outer.fail("class_name", "the loss class, such as \"BinaryCrossentropy\"");
  const json config = outer.has("config") ? outer.raw("config") : json::object();
  outer.ignore({"module", "registered_name"});
  outer.finish();

  const std::string name = loss_names().at(class_name);
  ConfigReader c(config, path + ".config");
  c.ignore({"name", "dtype", "fn"});
  c.string("reduction", "sum_over_batch_size", {"sum_over_batch_size", "auto"});
  bool from_logits = false;
  if (name != "mean_squared_error") {
    from_logits = c.boolean("from_logits", false);
    if (c.integer("axis", -1, -1024, 1024) != -1) c.fail("axis", "-1 (the last axis)");
    if (name == "sparse_categorical_crossentropy")
      c.require_null({"ignore_class"}, "not supported by normlab");
    else if (c.number("label_smoothing", 0.0, 0.0, 1.0) != 0.0)
      c.fail("label_smoothing", "0 (label smoothing is not supported by normlab)");
  }
  c.finish();
  return make_loss(name, from_logits, clip_epsilon);
}

std::vector<std::string> read_metrics(ConfigReader& compile, const Loss& loss) {
  const json& v = compile.raw("metrics");
  if (v.is_null()) return {};
  if (!v.is_array()) compile.fail("metrics", "a list of metric names, such as [\"accuracy\"]");
  std::vector<std::string> metrics;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = compile.path_of("metrics") + "[" + std::to_string(i) + "]";
    check(v[i].is_string(),
          at + ": expected a metric name such as \"accuracy\", got " + describe_json(v[i]));
    metrics.push_back(v[i].get<std::string>());
    with_context(at, [&] { make_metric(metrics.back(), loss); });
  }
  return metrics;
}

// TensorFlow.js writes optimizer settings in camelCase, and its Adam adds epsilon to
// sqrt(v_hat), normlab's "pytorch" epsilon placement.
json keras_optimizer(json optimizer) {
  if (!optimizer.is_object() || !optimizer.contains("config") || !optimizer["config"].is_object())
    return optimizer;
  static const std::pair<const char*, const char*> renames[] = {
      {"learningRate", "learning_rate"}, {"beta1", "beta_1"}, {"beta2", "beta_2"}};
  json& config = optimizer["config"];
  bool tfjs = false;
  for (const auto& [from, to] : renames) {
    if (!config.contains(from)) continue;
    config[to] = config[from];
    config.erase(from);
    tfjs = true;
  }
  if (tfjs && optimizer.value("class_name", "") == "Adam" && !config.contains("epsilon_placement"))
    config["epsilon_placement"] = "pytorch";
  return optimizer;
}

}  // namespace

void compile_from_config(const json& value, const std::string& preset, Sequential& model) {
  if (value.is_null())
    throw Error(
        "compile: expected {\"optimizer\": ..., \"loss\": ..., \"metrics\": [...]}, got "
        "nothing");
  ConfigReader r(value, "compile");
  if (!r.has("optimizer"))
    r.fail("optimizer", "an optimizer: \"adam\", \"sgd\" or {\"class_name\": \"Adam\", ...}");
  const json& optimizer_json = r.raw("optimizer");
  auto optimizer = optimizer_from_json(
      preset.empty() ? optimizer_json
                     : apply_preset_to_optimizer(preset, optimizer_json, r.path_of("optimizer")),
      r.path_of("optimizer"));
  auto loss = read_loss(r);
  const auto metrics = read_metrics(r, *loss);
  // Keras' compile-config entries that change nothing here.
  r.ignore({"run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss"});
  r.require_null({"loss_weights", "weighted_metrics"}, "not supported by normlab");
  r.finish();
  model.compile(std::move(optimizer), std::move(loss), metrics);
}

void compile_from_training_config(Sequential& model, const json& config, const std::string& path,
                                  bool from_logits, float clip_epsilon) {
  ConfigReader r(config, path);
  const std::string loss_name = r.string("loss", "");
  if (loss_name.empty()) r.fail("loss", "a loss name such as \"binary_crossentropy\"");
  const json& metrics = r.raw("metrics");
  const bool names =
      metrics.is_null() ||
      (metrics.is_array() &&
       std::all_of(metrics.begin(), metrics.end(), [](const json& x) { return x.is_string(); }));
  if (!names) r.fail("metrics", "an array of metric names");
  if (!r.has("optimizer_config"))
    r.fail("optimizer_config", "{\"class_name\": \"Adam\", \"config\": {...}}");
  const json optimizer = keras_optimizer(r.raw("optimizer_config"));
  r.require_null({"loss_weights", "weighted_metrics", "sample_weight_mode"},
                 "normlab models have one output");
  r.finish();
  auto opt = optimizer_from_json(optimizer, r.path_of("optimizer_config"));
  auto loss = with_context(r.path_of("loss"),
                           [&] { return make_loss(loss_name, from_logits, clip_epsilon); });
  with_context(r.path_of("metrics"), [&] {
    model.compile(
        std::move(opt), std::move(loss),
        metrics.is_null() ? std::vector<std::string>{} : metrics.get<std::vector<std::string>>());
  });
}

json training_config_to_json(Sequential& model) {
  json metrics = json::array();
  for (const auto& metric : model.metrics()) metrics.push_back(metric.name());
  return shortest_floats({{"loss", model.loss().name()},
                          {"metrics", std::move(metrics)},
                          {"optimizer_config", optimizer_to_json(model.optimizer())}});
}

}  // namespace normlab
