#include "io/model_json.h"

#include "core/atomic_file.h"
#include "core/config_reader.h"
#include "core/error.h"
#include "io/topology.h"

namespace normlab {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

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

}  // namespace

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

}  // namespace normlab
