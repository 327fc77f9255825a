#include "io/model_file.h"

#include <algorithm>
#include <bit>
#include <fstream>
#include <map>
#include <set>
#include <vector>

#include "core/atomic_file.h"
#include "core/config_reader.h"
#include "core/error.h"
#include "core/text.h"
#include "core/version.h"
#include "optim/registry.h"

namespace normlab {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

static_assert(std::endian::native == std::endian::little,
              "weights.bin is little-endian float32, read and written in place");

const std::string kModelFile = "model.json";
const std::string kWeightsFile = "weights.bin";
const std::string kStatePath = "userDefinedMetadata.normlab.layers";
constexpr std::uintmax_t kMaxModelJsonBytes = std::uintmax_t{64} << 20;
// Keras' non-trainable weights; any other non-trainable array of a layer is normlab state.
const std::set<std::string> kKerasStateNames = {"moving_mean", "moving_variance"};

bool is_keras_weight(const Variable& v) {
  return v.trainable() || kKerasStateNames.count(v.name) > 0;
}

// Keras' shape of a variable: [cols] for vectors (bias, gamma), [rows, cols] for kernels.
std::vector<std::size_t> shape_of(const Variable& v) {
  if (v.vector) return {v.value->cols()};
  return {v.value->rows(), v.value->cols()};
}

// At most 20 names, for messages.
std::string join_names(const std::vector<std::string>& names) {
  return names.empty() ? "none" : join(names, 20);
}

// One weight of weightsManifest, placed in the data of all groups read one after another.
// TensorFlow.js also lists its optimizer's state there ("group": "optimizer", float32 or int32),
// which normlab skips: a loaded model gets a fresh optimizer.
struct ManifestWeight {
  std::string name;
  std::string where;  // its JSON path in model.json
  std::vector<std::size_t> shape;
  std::size_t offset = 0, count = 0;  // in 4-byte values
  bool optimizer = false;
};

struct ManifestGroup {
  std::vector<std::string> paths;
  std::string where;
  std::size_t bytes = 0;  // what its weights take, which its files must hold exactly
};

// model.json, read and checked; the weight values stay on disk until they are copied.
struct ModelJson {
  json document;
  std::string topology_path;
  std::vector<ManifestGroup> groups;
  std::vector<ManifestWeight> weights;
  std::size_t total_floats = 0;
  json layer_configs = json::object();  // userDefinedMetadata.normlab.layers.<name>.config
  json layer_state = json::object();    // userDefinedMetadata.normlab.layers.<name>.state
  bool loss_from_logits = false;
  float loss_clip_epsilon = kKerasEpsilon;
  ModelInfo info;

  const json& topology() const { return document.at("modelTopology"); }
};

bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}

// A shape of positive dimensions holding at most kMaxWeightFloats values.
std::vector<std::size_t> read_shape(const json& value, const std::string& where) {
  const std::string expected =
      where + ": expected an array of positive integers, got " + describe_json(value);
  check(value.is_array(), expected);
  std::vector<std::size_t> shape;
  std::size_t count = 1;
  for (const auto& d : value) {
    check(d.is_number_unsigned() && d.get<std::uint64_t>() > 0, expected);
    const std::uint64_t n = d.get<std::uint64_t>();
    // count <= 2^28 and n <= 2^28 before the product: it cannot overflow.
    check(n <= kMaxWeightFloats && count * n <= kMaxWeightFloats,
          where + ": " + describe_json(value) + " holds more than " +
              std::to_string(kMaxWeightFloats) + " values, the most normlab reads");
    count *= n;
    shape.push_back(n);
  }
  return shape;
}

void parse_manifest(const json& manifest, const std::string& where, ModelJson& m) {
  check(manifest.is_array(), where + ": expected an array of weight groups [{\"paths\": [...], " +
                                 "\"weights\": [...]}], got " + describe_json(manifest));
  for (std::size_t g = 0; g < manifest.size(); ++g) {
    ManifestGroup group;
    group.where = where + "[" + std::to_string(g) + "]";
    ConfigReader r(manifest[g], group.where);
    const json& paths = r.raw("paths");
    const json& weights = r.raw("weights");
    r.finish();
    check(paths.is_array() && !paths.empty(), r.path_of("paths") +
                                                  ": expected a non-empty array of file names, " +
                                                  "got " + describe_json(paths));
    for (std::size_t p = 0; p < paths.size(); ++p)
      check(paths[p].is_string() && plain_file_name(paths[p].get<std::string>()),
            r.path_of("paths") + "[" + std::to_string(p) + "]: expected the name of a file in " +
                "the model's directory (no '/', no \"..\"), got " + describe_json(paths[p]));
    group.paths = paths.get<std::vector<std::string>>();
    check(weights.is_array(), r.path_of("weights") +
                                  ": expected an array of {\"name\", \"shape\", \"dtype\"}, got " +
                                  describe_json(weights));
    for (std::size_t i = 0; i < weights.size(); ++i) {
      ManifestWeight w;
      w.where = r.path_of("weights") + "[" + std::to_string(i) + "]";
      ConfigReader wr(weights[i], w.where);
      w.name = wr.string("name", "");
      if (w.name.empty()) wr.fail("name", "a weight name such as \"dense/kernel\"");
      w.optimizer = wr.string("group", "model", {"model", "optimizer"}) == "optimizer";
      if (wr.string("dtype", "",
                    w.optimizer ? std::vector<std::string>{"float32", "int32"}
                                : std::vector<std::string>{"float32"})
              .empty())
        wr.fail("dtype", "\"float32\" (normlab reads float32 weights)");
      if (wr.has("quantization"))
        wr.fail("quantization", "none (normlab reads plain float32 weights)");
      if (!wr.has("shape")) wr.fail("shape", "an array of positive integers");
      w.shape = read_shape(wr.raw("shape"), wr.path_of("shape"));
      wr.finish();
      w.count = 1;
      for (const auto d : w.shape) w.count *= d;
      check(m.total_floats + w.count <= kMaxWeightFloats,
            w.where + ": the weights hold more than " + std::to_string(kMaxWeightFloats) +
                " floats in all, the most normlab reads");
      w.offset = m.total_floats;
      m.total_floats += w.count;
      group.bytes += w.count * sizeof(float);
      m.weights.push_back(std::move(w));
    }
    m.groups.push_back(std::move(group));
  }
}

// userDefinedMetadata.normlab: {"version", "loss_from_logits", "loss_clip_epsilon", "layers":
// {name: {"config", "state"}}}.
void parse_normlab_metadata(const json& value, const std::string& where, ModelJson& m) {
  ConfigReader n(value, where);
  m.info.normlab_version = n.string("version", "");
  m.loss_from_logits = n.boolean("loss_from_logits", false);
  m.loss_clip_epsilon =
      static_cast<float>(n.number("loss_clip_epsilon", kKerasEpsilon, 0.0, 0.5, true, true));
  m.info.folded = n.raw("folded");
  const json& layers = n.raw("layers");
  n.finish();
  if (layers.is_null()) return;
  check(layers.is_object(), n.path_of("layers") + ": expected {\"<layer name>\": {\"config\": " +
                                "{...}, \"state\": {...}}, ...}, got " + describe_json(layers));
  for (const auto& [name, entry] : layers.items()) {
    ConfigReader l(entry, n.path_of("layers") + "." + name);
    const json& config = l.raw("config");
    const json& state = l.raw("state");
    l.finish();
    for (const auto& [key, part] : {std::pair{"config", &config}, std::pair{"state", &state}})
      check(part->is_null() || part->is_object(),
            l.path_of(key) + ": expected a JSON object {...}, got " + describe_json(*part));
    if (!config.is_null()) m.layer_configs[name] = config;
    if (!state.is_null()) m.layer_state[name] = state;
  }
}

// Checks a model.json document; `path` prefixes its JSON paths in messages ("" for a file).
ModelJson parse_model_json(json document, const std::string& path) {
  ModelJson m;
  m.document = std::move(document);
  check(m.document.is_object(),
        (path.empty() ? "" : path + ": ") + "expected a JSON object {\"modelTopology\": {...}, " +
            "\"weightsManifest\": [...], ...}, got " + describe_json(m.document));
  ConfigReader r(m.document, path);
  if (r.string("format", "layers-model") != "layers-model")
    r.fail("format", "\"layers-model\" (a TensorFlow.js Layers model; graph models are not read)");
  m.info.generated_by = r.string("generatedBy", "");
  r.string("convertedBy", "");
  if (!r.has("modelTopology")) r.fail("modelTopology", "the model's Keras topology {...}");
  r.raw("modelTopology");
  m.topology_path = r.path_of("modelTopology");
  const json& manifest = r.raw("weightsManifest");
  const json& training = r.raw("trainingConfig");
  if (!training.is_null() && !training.is_object())
    r.fail("trainingConfig", "a Keras training config {...} or null");
  m.info.training_config = training;
  const json& metadata = r.raw("userDefinedMetadata");
  r.finish();
  if (!manifest.is_null()) parse_manifest(manifest, r.path_of("weightsManifest"), m);
  m.info.metadata = json::object();
  if (!metadata.is_null()) {
    check(metadata.is_object(), r.path_of("userDefinedMetadata") +
                                    ": expected a JSON object {...}, got " +
                                    describe_json(metadata));
    m.info.metadata = metadata;
    m.info.metadata.erase("normlab");
    if (metadata.contains("normlab"))
      parse_normlab_metadata(metadata["normlab"], r.path_of("userDefinedMetadata") + ".normlab", m);
  }
  return m;
}

// model.json's text parsed and checked.
ModelJson model_json_from_text(std::string_view text) {
  json document;
  try {
    document = json::parse(text, depth_limit());
  } catch (const json::exception& e) {  // a syntax error, or a number beyond double's range
    throw Error(std::string("not valid JSON: ") + e.what());
  }
  ModelJson m = parse_model_json(std::move(document), "");
  check(m.document.contains("weightsManifest"),
        "weightsManifest: missing; a saved model lists its weights there");
  return m;
}

ModelJson read_model_json(const fs::path& dir) {
  const fs::path file = dir / kModelFile;
  const std::string text = read_file(file, kMaxModelJsonBytes, "model.json files",
                                     "a saved model is a directory holding model.json and "
                                     "weights.bin");
  return with_context(file.string(), [&] { return model_json_from_text(text); });
}

// A file of the manifest must be DIR/name itself or a symbolic link to a file in DIR.
void check_inside(const fs::path& dir, const fs::path& file) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(file, ec);
  check(fs::exists(status), file.string() + ": missing (model.json lists it in weightsManifest)");
  if (fs::is_symlink(status)) {
    const fs::path target = fs::canonical(file, ec);
    std::error_code dir_ec;
    const fs::path base = fs::canonical(dir, dir_ec);
    check(!ec && !dir_ec && target.parent_path() == base,
          file.string() + ": a symbolic link leading out of the model's directory" +
              (ec ? std::string() : " (to " + target.string() + ")"));
  }
  check(fs::is_regular_file(file, ec), file.string() + ": not a regular file");
}

// The weight files weightsManifest names: in a directory, or held in memory by name (then
// `dir` is empty and messages name the files alone).
struct WeightFiles {
  fs::path dir;
  const std::map<std::string, std::string_view>* memory = nullptr;

  fs::path path(const std::string& name) const { return dir / name; }
  std::uintmax_t size(const std::string& name) const {
    if (memory) {
      const auto it = memory->find(name);
      check(it != memory->end(), name + ": missing (model.json lists it in weightsManifest)");
      return it->second.size();
    }
    const fs::path file = path(name);
    check_inside(dir, file);
    std::error_code ec;
    const std::uintmax_t bytes = fs::file_size(file, ec);
    check(!ec, file.string() + ": cannot read it: " + ec.message());
    return bytes;
  }
  // Reads exactly `bytes` bytes, which size() gave.
  void read(const std::string& name, char* out, std::uintmax_t bytes) const {
    if (memory) {
      std::copy_n(memory->at(name).data(), bytes, out);
      return;
    }
    std::ifstream in(path(name), std::ios::binary);
    in.read(out, static_cast<std::streamsize>(bytes));
    check(in.gcount() == static_cast<std::streamsize>(bytes),
          path(name).string() + ": cannot read it");
  }
};

// Every group's files, read one after another. Each group's files must hold exactly the bytes
// of its weights, which is checked for all of them before the data are allocated.
std::vector<float> read_weight_data(const WeightFiles& files, const ModelJson& m) {
  std::vector<std::pair<std::string, std::uintmax_t>> sizes;
  for (const auto& group : m.groups) {
    std::uintmax_t bytes = 0;
    std::string names;
    for (const auto& name : group.paths) {
      const std::uintmax_t size = files.size(name);
      bytes += size;
      if (!names.empty()) names += " + ";
      names += files.path(name).string();
      sizes.emplace_back(name, size);
    }
    check(bytes == group.bytes, names + ": " + std::to_string(bytes) + " bytes, but " + kModelFile +
                                    "'s " + group.where + " lists " +
                                    std::to_string(group.bytes / sizeof(float)) +
                                    " float32 values (" + std::to_string(group.bytes) + " bytes)");
  }
  std::vector<float> data(m.total_floats);
  char* out = reinterpret_cast<char*>(data.data());
  for (const auto& [name, size] : sizes) {
    files.read(name, out, size);
    out += size;
  }
  return data;
}

// Where each variable of a model comes from: a manifest weight or a normlab state array.
struct Assignment {
  Tensor* tensor;
  const ManifestWeight* weight;  // null for state
  const json* state;
};

// Matches the variables of `target` to the file's weights. `saved`, the model the file's
// topology describes, is index-aligned with `target` and names the weights ("<layer>/<name>").
std::vector<Assignment> match_weights(const Sequential& target, const Sequential& saved,
                                      const ModelJson& m) {
  std::map<std::string, const ManifestWeight*> by_name;
  std::vector<std::string> listed;
  for (const auto& w : m.weights) {
    if (w.optimizer) continue;
    const auto [it, fresh] = by_name.emplace(w.name, &w);
    check(fresh, w.where + ".name: weight '" + w.name + "' is listed twice (also at " +
                     it->second->where + ")");
    listed.push_back(w.name);
  }
  std::vector<Assignment> plan;
  std::vector<std::string> needed;  // in layer order, for messages
  std::set<std::string> used, used_state;
  for (std::size_t i = 0; i < target.num_layers(); ++i) {
    const std::string& saved_name = saved.layer(i).name();
    const std::string layer = "layer " + std::to_string(i) + " '" + target.layer(i).name() + "' (" +
                              target.layer(i).class_name() + ")";
    for (const Variable& v : target.layer_variables(i)) {
      const std::vector<std::size_t> expected = shape_of(v);
      const std::string name = saved_name + "/" + v.name;
      if (!is_keras_weight(v)) {
        const std::string where = kStatePath + "." + saved_name + ".state." + v.name;
        const auto layer_state = m.layer_state.find(saved_name);
        const json* values = layer_state != m.layer_state.end() && layer_state->contains(v.name)
                                 ? &(*layer_state)[v.name]
                                 : nullptr;
        check(values != nullptr,
              where + ": missing; " + layer + " keeps its '" + v.name + "' there");
        check(values->is_array() && values->size() == v.value->size() &&
                  std::all_of(values->begin(), values->end(),
                              [](const json& x) { return x.is_number(); }),
              where + ": expected " + std::to_string(v.value->size()) + " numbers (" + layer +
                  ", shape " + shape_text(expected) + "), got " + describe_json(*values));
        used_state.insert(name);
        plan.push_back({v.value, nullptr, values});
        continue;
      }
      needed.push_back(name);
      used.insert(name);
      const auto it = by_name.find(name);
      check(it != by_name.end(), "weightsManifest: no weight '" + name + "', which " + layer +
                                     " needs with shape " + shape_text(expected) +
                                     "; the manifest has: " + join_names(listed));
      check(it->second->shape == expected, it->second->where + ": weight '" + name +
                                               "' has shape " + shape_text(it->second->shape) +
                                               ", but " + layer + " expects " +
                                               shape_text(expected));
      plan.push_back({v.value, it->second, nullptr});
    }
  }
  for (const auto& w : m.weights)
    check(w.optimizer || used.count(w.name) > 0,
          w.where + ": weight '" + w.name + "' belongs to no layer of the model, whose weights " +
              "are: " + join_names(needed));
  for (const auto& [layer, arrays] : m.layer_state.items())
    for (const auto& [array, values] : arrays.items())
      check(used_state.count(layer + "/" + array) > 0,
            kStatePath + "." + layer + ".state." + array + ": belongs to no layer of the model");
  return plan;
}

// Copies the file's weights into `target` once every check has passed.
void copy_weights(Sequential& target, const Sequential& saved, const ModelJson& m,
                  const WeightFiles& files) {
  const auto plan = with_context(files.path(kModelFile).string(),
                                 [&] { return match_weights(target, saved, m); });
  const std::vector<float> data = read_weight_data(files, m);
  for (const auto& a : plan) {
    if (a.weight) {
      std::copy_n(data.data() + a.weight->offset, a.weight->count, a.tensor->data());
    } else {
      for (std::size_t k = 0; k < a.tensor->size(); ++k)
        (*a.tensor)[k] = (*a.state)[k].get<float>();
    }
  }
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

// Compiles `model` from Keras' {"loss", "metrics", "optimizer_config"}.
void compile_from(Sequential& model, const json& config, const std::string& path, bool from_logits,
                  float clip_epsilon) {
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

// Both files go to temporary names first; the weights are renamed into place before model.json,
// so model.json never names weights that are not complete on disk.
void write_model_files(const fs::path& dir, const std::string& model_json,
                       const std::vector<float>& weights) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  check(!ec && fs::is_directory(dir),
        dir.string() + ": cannot create the model directory" + (ec ? ": " + ec.message() : ""));
  write_files_atomically(
      dir, {{kWeightsFile,
             {reinterpret_cast<const char*>(weights.data()), weights.size() * sizeof(float)}},
            {kModelFile, model_json}});
}

}  // namespace

Sequential model_from_json(const json& model, const std::string& path, const fs::path& base_dir,
                           std::uint64_t seed) {
  if (model.is_string()) {
    return with_context(path, [&] { return load_model(base_dir / model.get<std::string>()); });
  }
  if (model.is_object() && model.contains("modelTopology")) {
    const ModelJson m = parse_model_json(model, path);
    return sequential_from_topology(m.topology(), m.topology_path, seed, m.layer_configs);
  }
  return sequential_from_topology(model, path, seed);
}

void save_model(Sequential& model, const fs::path& dir, const json& metadata) {
  check(metadata.is_object(),
        "save_model: metadata must be a JSON object {...}, got " + describe_json(metadata));
  const json own = metadata.value("normlab", json::object());
  check(own.is_object() && own.size() == own.count("folded"),
        "save_model: the metadata key \"normlab\" holds normlab's own entries; use another key");
  json normlab = {{"version", version()}};
  if (own.contains("folded")) normlab["folded"] = own["folded"];
  json layers = json::object();
  const json extra_configs = normlab_layer_configs(model);
  for (const auto& [name, config] : extra_configs.items()) layers[name]["config"] = config;
  // TensorFlow.js' order: the trainable weights of every layer, then the non-trainable ones.
  json weights = json::array();
  std::vector<float> data;
  for (const bool trainable : {true, false}) {
    for (std::size_t i = 0; i < model.num_layers(); ++i) {
      const Layer& layer = model.layer(i);
      for (const Variable& v : model.layer_variables(i)) {
        if (!is_keras_weight(v)) {
          if (!trainable) layers[layer.name()]["state"][v.name] = v.value->to_vector();
          continue;
        }
        if ((layer.trainable() && v.trainable()) != trainable) continue;
        weights.push_back(
            {{"name", layer.name() + "/" + v.name}, {"shape", shape_of(v)}, {"dtype", "float32"}});
        data.insert(data.end(), v.value->begin(), v.value->end());
      }
    }
  }
  if (!layers.empty()) normlab["layers"] = std::move(layers);

  json document = {
      {"modelTopology", model_to_topology(model)},
      {"format", "layers-model"},
      {"generatedBy", std::string("normlab ") + version()},
      {"convertedBy", nullptr},
      {"weightsManifest",
       json::array({{{"paths", json::array({kWeightsFile})}, {"weights", std::move(weights)}}})}};
  if (model.compiled()) {
    json metrics = json::array();
    for (const auto& metric : model.metrics()) metrics.push_back(metric.name());
    document["trainingConfig"] =
        shortest_floats({{"loss", model.loss().name()},
                         {"metrics", std::move(metrics)},
                         {"optimizer_config", optimizer_to_json(model.optimizer())}});
    if (model.loss().from_logits()) normlab["loss_from_logits"] = true;
    if (model.loss().clip_epsilon() != kKerasEpsilon)
      normlab["loss_clip_epsilon"] = model.loss().clip_epsilon();
  }
  json user = metadata;
  user["normlab"] = shortest_floats(std::move(normlab));
  document["userDefinedMetadata"] = std::move(user);
  write_model_files(dir, document.dump(), data);
}

namespace {

// The model a checked model.json describes, its weights read from `files`. The topology may ask
// for no more weights than the manifest lists, so that a size field cannot make normlab
// allocate more than the weight files hold.
Sequential load_checked(const ModelJson& m, const WeightFiles& files, bool compile) {
  const fs::path file = files.path(kModelFile);
  Sequential model = with_context(file.string(), [&] {
    return sequential_from_topology(m.topology(), m.topology_path, 0, m.layer_configs, true,
                                    m.total_floats);
  });
  copy_weights(model, model, m, files);
  if (compile && !m.info.training_config.is_null())
    with_context(file.string(), [&] {
      compile_from(model, m.info.training_config, "trainingConfig", m.loss_from_logits,
                   m.loss_clip_epsilon);
    });
  return model;
}

}  // namespace

Sequential load_model(const fs::path& dir, bool compile) {
  return load_checked(read_model_json(dir), WeightFiles{dir}, compile);
}

Sequential load_model_from_memory(std::string_view model_json,
                                  const std::map<std::string, std::string_view>& weight_files,
                                  bool compile) {
  const WeightFiles files{{}, &weight_files};
  const ModelJson m = with_context(kModelFile, [&] {
    check(model_json.size() <= kMaxModelJsonBytes,
          std::to_string(model_json.size()) + " bytes; normlab reads model.json files of at most " +
              std::to_string(kMaxModelJsonBytes) + " bytes");
    return model_json_from_text(model_json);
  });
  return load_checked(m, files, compile);
}

void load_weights(Sequential& model, const fs::path& dir) {
  const ModelJson m = read_model_json(dir);
  const fs::path file = dir / kModelFile;
  const Sequential saved = with_context(file.string(), [&] {
    return sequential_from_topology(m.topology(), m.topology_path, 0, m.layer_configs, true,
                                    m.total_floats);
  });
  with_context(file.string(), [&] {
    check(saved.num_layers() == model.num_layers(),
          "the saved model has " + std::to_string(saved.num_layers()) + " layers, this model " +
              std::to_string(model.num_layers()) + "; its weights fit the same layers in the " +
              "same order");
    for (std::size_t i = 0; i < model.num_layers(); ++i) {
      const Layer &a = saved.layer(i), &b = model.layer(i);
      check(a.class_name() == b.class_name(), "layer " + std::to_string(i) + " is '" + a.name() +
                                                  "' (" + a.class_name() +
                                                  ") in the saved model but '" + b.name() + "' (" +
                                                  b.class_name() + ") in this model");
    }
  });
  copy_weights(model, saved, m, WeightFiles{dir});
}

ModelInfo read_model_info(const fs::path& dir) {
  return read_model_json(dir).info;
}

}  // namespace normlab
