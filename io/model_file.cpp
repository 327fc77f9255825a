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
#include "io/compile_config.h"
#include "io/model_json.h"
#include "io/weight_files.h"
#include "optim/registry.h"

namespace normlab {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

static_assert(std::endian::native == std::endian::little,
              "weights.bin is little-endian float32, read and written in place");

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
    document["trainingConfig"] = training_config_to_json(model);
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
      compile_from_training_config(model, m.info.training_config, "trainingConfig",
                                   m.loss_from_logits, m.loss_clip_epsilon);
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
