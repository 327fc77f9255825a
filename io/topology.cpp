#include "io/topology.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

#include "core/config_reader.h"
#include "core/error.h"
#include "core/format.h"
#include "core/text.h"
#include "layers/initializers.h"
#include "layers/presets.h"
#include "layers/registry.h"

namespace normlab {

using json = nlohmann::json;

namespace {

// Keras' arguments of each layer class, as TensorFlow.js writes them: `values` come from
// normlab's config, `nulls` (regularizers, constraints) are written as null. Every other key of
// a normlab config, and a Keras argument normlab sets to null (BatchNormalization's momentum for
// a cumulative average), stays out of the topology, since Keras refuses unknown arguments
// (TensorFlow.js ignores them); normlab_layer_configs() collects those keys. A class Keras does
// not know keeps its whole config.
struct KerasArguments {
  std::vector<std::string> values, nulls;
};
const std::map<std::string, KerasArguments> kKerasArguments = {
    {"Dense",
     {{"units", "activation", "use_bias", "kernel_initializer", "bias_initializer"},
      {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
       "bias_constraint"}}},
    {"BatchNormalization",
     {{"axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
       "moving_mean_initializer", "moving_variance_initializer"},
      {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"}}},
    {"Activation", {{"activation"}, {}}}};

// A layer's config split into Keras' arguments and normlab's own keys.
std::pair<json, json> split_config(const Layer& layer) {
  json config = layer.get_config();
  const auto keras = kKerasArguments.find(layer.class_name());
  if (keras == kKerasArguments.end()) return {config, json::object()};
  const auto& values = keras->second.values;
  json standard = json::object(), own = json::object();
  for (const auto& [key, value] : config.items()) {
    const bool argument =
        key == "name" || key == "trainable" ||
        (std::find(values.begin(), values.end(), key) != values.end() && !value.is_null());
    (argument ? standard : own)[key] = value;
  }
  for (const auto& key : keras->second.nulls) standard[key] = nullptr;
  return {standard, own};
}

// The input-shape keys a Keras layer config may carry; only the first layer's count.
const std::vector<std::string> kInputKeys = {"batch_input_shape", "batch_shape", "input_shape",
                                             "input_dim"};

constexpr std::int64_t kMaxWidth = std::int64_t{1} << 24;

// normlab's variance-scaling initializers, U(-l, l) with l = sqrt(3 scale / fan), as Keras'
// VarianceScaling writes them: glorot_uniform (fan_avg, scale 1), he_uniform (fan_in, scale 2),
// torch_uniform (fan_in, scale 1/3, so l = 1 / sqrt(fan_in)).
struct VarianceScaling {
  const char* name;
  double scale;
  const char* mode;
};
const VarianceScaling kVarianceScaling[] = {{"glorot_uniform", 1.0, "fan_avg"},
                                            {"he_uniform", 2.0, "fan_in"},
                                            {"torch_uniform", 1.0 / 3.0, "fan_in"}};

bool known_initializer(const std::string& name) {
  try {
    check_initializer(name);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// An initializer object by its normlab name where there is one: {"class_name": "HeUniform"} ->
// "he_uniform", VarianceScaling by its parameters. With `weights_follow` (the saved weights
// replace whatever it would draw) one normlab cannot draw becomes null, the layer's default;
// otherwise it is returned unchanged for the layer registry to report.
json normlab_initializer(const json& value, bool weights_follow) {
  std::string name;
  if (value.is_string()) {
    name = value.get<std::string>();
  } else if (value.is_object() && value.contains("class_name") && value["class_name"].is_string()) {
    const std::string cls = value["class_name"].get<std::string>();
    if (cls != "VarianceScaling") {
      name = snake_case(cls);
    } else if (value.contains("config") && value["config"].is_object()) {
      const json& c = value["config"];
      const auto scale = c.value("scale", json()), mode = c.value("mode", json()),
                 distribution = c.value("distribution", json());
      for (const auto& v : kVarianceScaling)
        if (scale.is_number() && std::abs(scale.get<double>() - v.scale) < 1e-6 * v.scale &&
            mode == v.mode && distribution == "uniform")
          name = v.name;
    }
  }
  if (known_initializer(name)) return name;
  return weights_follow ? json() : value;
}

// The Keras object of a normlab initializer, as TensorFlow.js writes it.
json keras_initializer(const std::string& name) {
  for (const auto& v : kVarianceScaling)
    if (name == v.name)
      return {
          {"class_name", "VarianceScaling"},
          {"config",
           {{"scale", v.scale}, {"mode", v.mode}, {"distribution", "uniform"}, {"seed", nullptr}}}};
  if (name == "zeros" || name == "ones")
    return {{"class_name", name == "zeros" ? "Zeros" : "Ones"}, {"config", json::object()}};
  return name;
}

// The model's input width, from whichever keys give it; they must agree.
class InputWidth {
 public:
  // `value` at JSON path `where`: [null, N] for batch shapes, [N] for input_shape, N for
  // input_dim.
  void add(const json& value, const std::string& key, const std::string& where) {
    const bool batch =
        key == "batch_input_shape" || key == "batch_shape" || key == "build_input_shape";
    const bool shape = batch || key == "input_shape";
    const std::string form = batch ? "[null, N]" : shape ? "[N]" : "N";
    const json* n = &value;
    if (shape) {
      const bool ok =
          value.is_array() && value.size() == (batch ? 2u : 1u) && (!batch || value[0].is_null());
      n = ok ? &value.back() : nullptr;
    }
    if (!n || !n->is_number_integer() || n->get<std::int64_t>() < 1 ||
        n->get<std::int64_t>() > kMaxWidth)
      throw Error(where + ": expected " + form + " with N in [1, " + std::to_string(kMaxWidth) +
                  "], one feature dimension (normlab models take rows of N features), got " +
                  describe_json(value));
    const auto width = static_cast<std::size_t>(n->get<std::int64_t>());
    if (width_ != 0 && width != width_)
      throw Error(where + ": input width " + std::to_string(width) + " disagrees with " + from_ +
                  " (" + std::to_string(width_) + ")");
    width_ = width;
    from_ = where;
  }
  std::size_t width() const { return width_; }

 private:
  std::size_t width_ = 0;
  std::string from_;
};

struct ParsedLayer {
  std::unique_ptr<Layer> layer;
  std::string path;
};

// One entry of a layers array: an InputLayer (its shape goes to `width`) or a layer, returned.
std::unique_ptr<Layer> parse_layer(const json& entry, const std::string& path, bool first,
                                   InputWidth& width, const json& layer_configs,
                                   bool weights_follow) {
  ConfigReader e(entry, path);
  const std::string cls = e.string("class_name", "");
  if (cls.empty()) e.fail("class_name", "a layer class name such as \"Dense\"");
  e.ignore({"module", "registered_name", "build_config"});
  json config = e.raw("config").is_null() ? json::object() : e.raw("config");
  e.finish();
  const std::string cpath = e.path_of("config");
  check(config.is_object(), cpath + ": expected a JSON object {...}, got " + describe_json(config));

  if (cls == "InputLayer") {
    check(first, path + ": an InputLayer may only come first");
    ConfigReader in(config, cpath);
    for (const auto& key : {"batch_input_shape", "batch_shape", "input_shape"})
      if (in.has(key)) width.add(in.raw(key), key, in.path_of(key));
    in.ignore({"name", "dtype"});
    for (const auto& key : {"sparse", "ragged", "optional"})
      if (in.boolean(key, false)) in.fail(key, "false (normlab inputs are dense rows)");
    in.finish();
    return nullptr;
  }
  for (const auto& key : kInputKeys) {
    if (!config.contains(key)) continue;
    if (!config[key].is_null()) {
      check(first, cpath + "." + key + ": only the first layer gives the input shape");
      width.add(config[key], key, cpath + "." + key);
    }
    config.erase(key);
  }
  for (auto& [key, value] : config.items())
    if (key.ends_with("_initializer")) value = normlab_initializer(value, weights_follow);
  const auto name = config.find("name");
  if (name != config.end() && name->is_string() && layer_configs.contains(name->get<std::string>()))
    config.update(layer_configs[name->get<std::string>()]);
  return layer_from_config(cls, config, cpath);
}

}  // namespace

Sequential sequential_from_topology(const json& topology, const std::string& path,
                                    std::uint64_t seed, const json& layer_configs,
                                    bool weights_follow, std::size_t max_floats) {
  const json* t = &topology;
  std::string tpath = path;
  // The TensorFlow.js converter's wrapper: {"keras_version", "backend", "model_config": {...}}.
  if (t->is_object() && t->contains("model_config")) {
    ConfigReader w(*t, tpath);
    w.ignore({"keras_version", "backend", "training_config"});
    t = &w.raw("model_config");
    w.finish();
    tpath = w.path_of("model_config");
  }
  check(t->is_object(), tpath + ": expected a model topology {...}, got " + describe_json(*t));
  // normlab's form may name a framework preset (layers/presets.h): its settings are filled into
  // every layer config that does not give them.
  json preset_applied;
  if (!t->contains("class_name") && t->contains("preset")) {
    const json& preset = (*t)["preset"];
    check(preset.is_string(), tpath + ".preset: expected one of \"keras3\", \"tf_keras\", " +
                                  "\"pytorch\", \"tfjs\", got " + describe_json(preset));
    preset_applied = apply_preset(preset.get<std::string>(), *t, tpath);
    t = &preset_applied;
  }

  InputWidth width;
  bool trainable = true;
  const json* layers = nullptr;
  std::string lpath;
  if (t->contains("class_name")) {  // Keras: {"class_name": "Sequential", "config": {...}}
    ConfigReader k(*t, tpath);
    if (k.string("class_name", "") != "Sequential")
      k.fail("class_name", "\"Sequential\" (normlab builds Sequential models)");
    k.ignore({"module", "registered_name", "build_config", "compile_config", "keras_version",
              "backend"});
    const json& config = k.raw("config");
    k.finish();
    ConfigReader c(config, k.path_of("config"));
    c.string("name", "");
    trainable = c.boolean("trainable", true);
    c.ignore({"dtype"});
    if (c.has("build_input_shape"))
      width.add(c.raw("build_input_shape"), "build_input_shape", c.path_of("build_input_shape"));
    layers = &c.raw("layers");
    lpath = c.path_of("layers");
    c.finish();
  } else {  // normlab: {"input_dim": N, "layers": [...]}
    ConfigReader n(*t, tpath);
    if (n.has("input_dim")) width.add(n.raw("input_dim"), "input_dim", n.path_of("input_dim"));
    layers = &n.raw("layers");
    lpath = n.path_of("layers");
    n.finish();
  }
  check(layers->is_array() && !layers->empty(),
        lpath + ": expected a non-empty array of layers [{\"class_name\": ..., \"config\": " +
            "{...}}, ...], got " + describe_json(*layers));
  check(layers->size() <= kMaxLayers, lpath + ": " + std::to_string(layers->size()) +
                                          " layers; normlab reads models of at most " +
                                          std::to_string(kMaxLayers));

  std::vector<ParsedLayer> parsed;
  for (std::size_t i = 0; i < layers->size(); ++i) {
    const std::string path_i = lpath + "[" + std::to_string(i) + "]";
    auto layer =
        parse_layer((*layers)[i], path_i, parsed.empty(), width, layer_configs, weights_follow);
    if (layer) parsed.push_back({std::move(layer), path_i});
  }
  check(!parsed.empty(), lpath + ": the model has no layers besides its InputLayer");
  check(width.width() > 0, tpath + ": no input width; give \"input_dim\": N, or " +
                               "\"batch_input_shape\": [null, N] on the first layer");

  Sequential model(width.width(), seed);
  // Bounds of each layer's weights before it allocates them. Above: (in + 4) * out covers
  // Dense (in * out + out) and BatchNormalization (4 * in, out = in). Below: a layer that
  // changes the width (Dense) holds an in x out kernel.
  std::size_t floats = 0, kernels = 0;
  for (auto& entry : parsed) {
    // Named references rather than a structured binding, which clang 14's lambdas cannot capture.
    std::unique_ptr<Layer>& layer = entry.layer;
    const std::string& path_i = entry.path;
    const std::size_t in = model.output_dim();
    const std::size_t out = layer->output_dim() > 0 ? layer->output_dim() : in;
    floats += (in + 4) * out;  // in, out <= 2^24: no overflow
    check(floats <= kMaxWeightFloats, path_i + ": the model's weights would exceed " +
                                          std::to_string(kMaxWeightFloats) +
                                          " floats (1 GiB), the most normlab reads");
    if (layer->output_dim() > 0) kernels += in * out;
    check(kernels <= max_floats, path_i + ": its kernel of " + std::to_string(in) + " x " +
                                     std::to_string(out) + " floats takes the model's kernels to " +
                                     std::to_string(kernels) + " floats, but the weights hold " +
                                     std::to_string(max_floats) + " in all");
    with_context(path_i, [&] {
      Layer& added = model.add(std::move(layer));
      if (!trainable) added.set_trainable(false);  // Keras: a frozen model freezes every layer
    });
  }
  return model;
}

json model_to_topology(const Sequential& model) {
  json layers = json::array();
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    const Layer& layer = model.layer(i);
    json config = split_config(layer).first;
    for (auto& [key, value] : config.items())
      if (key.ends_with("_initializer") && value.is_string())
        value = keras_initializer(value.get<std::string>());
    if (i == 0) {
      config["batch_input_shape"] = {nullptr, model.input_dim()};
      config["dtype"] = "float32";
    }
    layers.push_back({{"class_name", layer.class_name()}, {"config", std::move(config)}});
  }
  return shortest_floats({{"class_name", "Sequential"},
                          {"config", {{"name", "sequential"}, {"layers", std::move(layers)}}},
                          {"keras_version", "tfjs-layers 4.22.0"},
                          {"backend", "tensor_flow.js"}});
}

json normlab_layer_configs(const Sequential& model) {
  json out = json::object();
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    json own = split_config(model.layer(i)).second;
    if (!own.empty()) out[model.layer(i).name()] = std::move(own);
  }
  return shortest_floats(std::move(out));
}

json shortest_floats(json value) {
  if (value.is_structured()) {
    for (auto& item : value) item = shortest_floats(std::move(item));
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    const float f = static_cast<float>(d);
    if (std::isfinite(f) && static_cast<double>(f) == d)
      value = std::strtod(format_float(f).c_str(), nullptr);
  }
  return value;
}

}  // namespace normlab
