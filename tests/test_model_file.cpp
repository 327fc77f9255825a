// Model files in the TensorFlow.js Layers format and model topologies: the topology TensorFlow.js
// 4.22 writes for the same model (golden, captured from @tensorflow/tfjs), the save -> load ->
// predict round trip exact to the bit, load_weights, atomic saves, every malformed field of
// model.json, and the topology forms of normlab, tf.keras 2.x / TensorFlow.js and Keras 3.
// tests/tfjs/ checks the files against TensorFlow.js itself, in both directions.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "core/version.h"
#include "io/model_file.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "optim/adam.h"
#include "optim/registry.h"

#include "error_of.h"
#include "model_file_cases.h"
#include "temp_dir.h"

using namespace normlab;
namespace fs = std::filesystem;
using json = nlohmann::json;
using normlab::testing::error_of;

using normlab::testing::TempDir;

namespace {

json read_json(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

// Rows around (0.5, ..., 0.5) labelled by x0 + x1 > 1.
void make_data(Tensor& x, Tensor& y, std::uint64_t seed) {
  Rng rng(seed);
  for (float& v : x) v = static_cast<float>(rng.normal() + 0.5);
  for (std::size_t r = 0; r < x.rows(); ++r) y(r, 0) = x(r, 0) + x(r, 1) > 1.0f ? 1.0f : 0.0f;
}

// Dense(8) -> BatchNormalization(momentum 0.9) -> ReLU -> Dense(1, sigmoid), 12 Adam steps:
// weights and moving statistics far from their initial values.
Sequential trained_model(std::uint64_t seed = 7) {
  Sequential model(5, seed);
  model.add(Dense(8));
  model.add(BatchNormalization({.momentum = 0.9f}));
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam({.learning_rate = 0.01f}), "binary_crossentropy", {"accuracy"});
  Tensor x(48, 5), y(48, 1);
  make_data(x, y, 3);
  model.fit(x, y, {.batch_size = 16, .epochs = 4, .verbose = 0});
  return model;
}

Tensor eval_inputs() {
  Tensor x(10, 5), y(10, 1);
  make_data(x, y, 11);
  return x;
}

BatchNormalization& bn_of(Sequential& model) {
  return dynamic_cast<BatchNormalization&>(model.layer(1));
}

// What TensorFlow.js 4.22 writes (model.save through tf.io.withSaveHandler, includeOptimizer)
// for tf.sequential() of dense({units: 8, inputShape: [5], kernelInitializer: 'glorotUniform',
// name: 'dense'}), batchNormalization({momentum: 0.9}), activation({activation: 'relu'}),
// dense({units: 1, activation: 'sigmoid', kernelInitializer: 'glorotUniform'}), compiled with
// adam(0.01), binaryCrossentropy and accuracy. Only the model's name differs ("sequential_1").
const char* kTfjsTopology =
    R"({"class_name":"Sequential","config":{"name":"sequential_1","layers":[{"class_name":"Dense","config":{"units":8,"activation":"linear","use_bias":true,"kernel_initializer":{"class_name":"VarianceScaling","config":{"scale":1,"mode":"fan_avg","distribution":"uniform","seed":null}},"bias_initializer":{"class_name":"Zeros","config":{}},"kernel_regularizer":null,"bias_regularizer":null,"activity_regularizer":null,"kernel_constraint":null,"bias_constraint":null,"name":"dense","trainable":true,"batch_input_shape":[null,5],"dtype":"float32"}},{"class_name":"BatchNormalization","config":{"axis":-1,"momentum":0.9,"epsilon":0.001,"center":true,"scale":true,"beta_initializer":{"class_name":"Zeros","config":{}},"gamma_initializer":{"class_name":"Ones","config":{}},"moving_mean_initializer":{"class_name":"Zeros","config":{}},"moving_variance_initializer":{"class_name":"Ones","config":{}},"beta_regularizer":null,"gamma_regularizer":null,"beta_constraint":null,"gamma_constraint":null,"name":"batch_normalization","trainable":true}},{"class_name":"Activation","config":{"activation":"relu","name":"activation","trainable":true}},{"class_name":"Dense","config":{"units":1,"activation":"sigmoid","use_bias":true,"kernel_initializer":{"class_name":"VarianceScaling","config":{"scale":1,"mode":"fan_avg","distribution":"uniform","seed":null}},"bias_initializer":{"class_name":"Zeros","config":{}},"kernel_regularizer":null,"bias_regularizer":null,"activity_regularizer":null,"kernel_constraint":null,"bias_constraint":null,"name":"dense_1","trainable":true}}]},"keras_version":"tfjs-layers 4.22.0","backend":"tensor_flow.js"})";
const char* kTfjsTrainingConfig =
    R"({"loss":"binary_crossentropy","metrics":["accuracy"],"optimizer_config":{"class_name":"Adam","config":{"learningRate":0.01,"beta1":0.9,"beta2":0.999,"epsilon":1e-7}}})";
const char* kTfjsWeightSpecs =
    R"([{"name":"dense/kernel","shape":[5,8],"dtype":"float32"},{"name":"dense/bias","shape":[8],"dtype":"float32"},{"name":"batch_normalization/gamma","shape":[8],"dtype":"float32"},{"name":"batch_normalization/beta","shape":[8],"dtype":"float32"},{"name":"dense_1/kernel","shape":[8,1],"dtype":"float32"},{"name":"dense_1/bias","shape":[1],"dtype":"float32"},{"name":"batch_normalization/moving_mean","shape":[8],"dtype":"float32"},{"name":"batch_normalization/moving_variance","shape":[8],"dtype":"float32"},{"name":"iter","shape":[],"dtype":"int32","group":"optimizer"}])";

}  // namespace

TEST_CASE("model_to_topology: the topology TensorFlow.js 4.22 writes for the same model") {
  Sequential model = trained_model();
  json golden = json::parse(kTfjsTopology);
  golden["config"]["name"] = "sequential";
  const json topology = model_to_topology(model);
  INFO(topology.dump());
  CHECK(topology == golden);
}

TEST_CASE("save_model: model.json and weights.bin as TensorFlow.js writes them") {
  TempDir dir("layout");
  Sequential model = trained_model();
  save_model(model, dir.path, {{"run", "abc"}});
  CHECK(listing(dir.path) == std::set<std::string>{"model.json", "weights.bin"});

  const json file = read_json(dir / "model.json");
  std::set<std::string> keys;
  for (const auto& [key, value] : file.items()) keys.insert(key);
  CHECK(keys == std::set<std::string>{"modelTopology", "format", "generatedBy", "convertedBy",
                                      "weightsManifest", "trainingConfig", "userDefinedMetadata"});
  CHECK(file["format"] == "layers-model");
  CHECK(file["generatedBy"] == std::string("normlab ") + version());
  CHECK(file["convertedBy"].is_null());
  CHECK(file["modelTopology"] == model_to_topology(model));

  // The manifest lists TensorFlow.js' names, shapes and order (its optimizer's "iter" aside).
  json specs = json::parse(kTfjsWeightSpecs);
  specs.erase(specs.size() - 1);
  REQUIRE(file["weightsManifest"].size() == 1);
  CHECK(file["weightsManifest"][0]["paths"] == json::array({"weights.bin"}));
  CHECK(file["weightsManifest"][0]["weights"] == specs);

  // TensorFlow.js' trainingConfig keys; normlab's optimizer config in Keras' snake_case.
  const json& training = file["trainingConfig"];
  CHECK(training["loss"] == "binary_crossentropy");
  CHECK(training["metrics"] == json::array({"accuracy"}));
  CHECK(training["optimizer_config"]["class_name"] == "Adam");
  CHECK(training["optimizer_config"]["config"]["learning_rate"].get<double>() == 0.01);
  json metadata = json::parse(R"({"run": "abc", "normlab": {"layers": {"batch_normalization":
      {"config": {"moving_variance_update": "biased"}}}}})");
  metadata["normlab"]["version"] = version();
  CHECK(file["userDefinedMetadata"] == metadata);

  // weights.bin: every weight in manifest order, little-endian float32.
  std::ifstream in(dir / "weights.bin", std::ios::binary);
  std::vector<float> data(fs::file_size(dir / "weights.bin") / sizeof(float));
  in.read(reinterpret_cast<char*>(data.data()),
          static_cast<std::streamsize>(fs::file_size(dir / "weights.bin")));
  REQUIRE(data.size() == 40 + 8 + 8 + 8 + 8 + 1 + 8 + 8);
  const auto& kernel = dynamic_cast<Dense&>(model.layer(0)).kernel;
  CHECK(std::memcmp(data.data(), kernel.data(), 40 * sizeof(float)) == 0);
  const auto& moving_variance = bn_of(model).moving_variance;
  CHECK(std::memcmp(data.data() + data.size() - 8, moving_variance.data(), 8 * sizeof(float)) == 0);
}

TEST_CASE("load_model: save -> load -> predict is exact to the bit with the moving statistics") {
  TempDir dir("roundtrip");
  Sequential model = trained_model();
  // The moving statistics moved away from Keras' initial 0 and 1.
  CHECK(bn_of(model).moving_mean[0] != 0.0f);
  CHECK(bn_of(model).moving_variance[0] != 1.0f);
  save_model(model, dir.path);
  Sequential loaded = load_model(dir.path);
  const Tensor x = eval_inputs();
  CHECK(loaded.predict(x) == model.predict(x));
  CHECK(bn_of(loaded).moving_mean == bn_of(model).moving_mean);
  CHECK(bn_of(loaded).moving_variance == bn_of(model).moving_variance);
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    CHECK(loaded.layer(i).get_config() == model.layer(i).get_config());

  // Compiled from trainingConfig, with a fresh optimizer that can train on.
  REQUIRE(loaded.compiled());
  CHECK(optimizer_to_json(loaded.optimizer()) == optimizer_to_json(model.optimizer()));
  CHECK(loaded.optimizer().iterations() == 0);
  CHECK(loaded.loss().name() == "binary_crossentropy");
  REQUIRE(loaded.metrics().size() == 1);
  CHECK(loaded.metrics()[0].name() == "accuracy");
  Tensor y(10, 1);
  Tensor x2(10, 5);
  make_data(x2, y, 5);
  loaded.fit(x2, y, {.batch_size = 5, .epochs = 1, .verbose = 0});
  CHECK_FALSE(loaded.predict(x) == model.predict(x));

  CHECK_FALSE(load_model(dir.path, false).compiled());
}

TEST_CASE("load_model: normlab's own settings travel in userDefinedMetadata") {
  TempDir dir("extensions");
  Sequential model(3, 1);
  DenseConfig dense{
      .units = 4, .activation = "tanh", .use_bias = false, .kernel_initializer = "torch_uniform"};
  model.add(Dense(dense));
  model.add(BatchNormalization({.center = false,
                                .moving_variance_update = VarianceUpdate::Unbiased,
                                .gamma_initializer = "he_uniform"}));
  model.add(Dense(2, "softmax"));
  model.compile(std::make_unique<Adam>(), make_loss("categorical_crossentropy", true));
  Tensor x{{1, 2, 3}, {0, -1, 2}, {4, 0, 1}};
  Tensor y{{1, 0}, {0, 1}, {1, 0}};
  model.fit(x, y, {.batch_size = 3, .epochs = 2, .verbose = 0});
  save_model(model, dir.path);

  // Keras' topology without the extension; the extension and from_logits beside it.
  const json file = read_json(dir / "model.json");
  const json& bn = file["modelTopology"]["config"]["layers"][1]["config"];
  CHECK_FALSE(bn.contains("moving_variance_update"));
  const json& normlab = file["userDefinedMetadata"]["normlab"];
  CHECK(normlab["layers"]["batch_normalization"]["config"]["moving_variance_update"] == "unbiased");
  CHECK(normlab["loss_from_logits"] == true);
  // torch_uniform is Keras' VarianceScaling(1/3, fan_in, uniform): l = sqrt(3 * (1/3) / fan_in).
  const json& init = file["modelTopology"]["config"]["layers"][0]["config"]["kernel_initializer"];
  CHECK(init["class_name"] == "VarianceScaling");
  CHECK(init["config"]["mode"] == "fan_in");

  Sequential loaded = load_model(dir.path);
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    CHECK(loaded.layer(i).get_config() == model.layer(i).get_config());
  CHECK(loaded.predict(x) == model.predict(x));
  CHECK(loaded.loss().from_logits());
}

TEST_CASE("save_model: a loss's clipping bound other than Keras' 1e-7 travels with the model") {
  TempDir dir("clip");
  Sequential model(2, 3);
  model.add(Dense(1, "sigmoid"));
  model.compile(std::make_unique<Adam>(), make_loss("binary_crossentropy", false, 0.01f));
  save_model(model, dir.path);
  CHECK(read_json(dir / "model.json")["userDefinedMetadata"]["normlab"]["loss_clip_epsilon"]
            .get<float>() == 0.01f);
  CHECK(load_model(dir.path).loss().clip_epsilon() == 0.01f);

  model.compile(std::make_unique<Adam>(), make_loss("binary_crossentropy"));
  save_model(model, dir.path);
  CHECK_FALSE(read_json(dir / "model.json")["userDefinedMetadata"]["normlab"].contains(
      "loss_clip_epsilon"));
  CHECK(load_model(dir.path).loss().clip_epsilon() == kKerasEpsilon);
}

TEST_CASE("save_model: a cumulative-average renormalizing BatchNormalization stays Keras-clean") {
  // momentum null (cumulative average) and renorm: Keras' topology keeps only its arguments; the
  // rest, and the arrays Keras has no weight for, travel in userDefinedMetadata.
  const json config = json::parse(R"({"input_dim": 3, "layers": [
      {"class_name": "Dense", "config": {"units": 4}},
      {"class_name": "BatchNormalization", "config": {"momentum": null, "renorm": true,
                                                      "renorm_momentum": 0.9}}]})");
  Sequential model = model_from_json(config, "model", ".", 2);
  model.compile(Adam(), "mse");
  const Tensor x{{1, 2, 3}, {0, -1, 2}, {4, 0, 1}, {2, 2, 2}};
  model.fit(x, Tensor(4, 4, 0.5f), {.batch_size = 2, .epochs = 2, .verbose = 0});
  TempDir dir("renorm");
  save_model(model, dir.path);

  const json file = read_json(dir / "model.json");
  std::set<std::string> keys;
  for (const auto& [key, value] : file["modelTopology"]["config"]["layers"][1]["config"].items())
    keys.insert(key);
  const json tfjs_bn = json::parse(kTfjsTopology)["config"]["layers"][1]["config"];
  std::set<std::string> tfjs_keys;  // what TensorFlow.js writes for a BatchNormalization
  for (const auto& [key, value] : tfjs_bn.items()) tfjs_keys.insert(key);
  tfjs_keys.erase("momentum");
  CHECK(keys == tfjs_keys);
  const json& own = file["userDefinedMetadata"]["normlab"]["layers"]["batch_normalization"];
  CHECK(own["config"]["momentum"].is_null());
  CHECK(own["config"]["renorm"] == true);
  CHECK(own["state"].contains("renorm_mean"));
  std::set<std::string> weights;
  for (const auto& w : file["weightsManifest"][0]["weights"]) weights.insert(w["name"]);
  CHECK(weights == std::set<std::string>{"dense/kernel", "dense/bias", "batch_normalization/gamma",
                                         "batch_normalization/beta",
                                         "batch_normalization/moving_mean",
                                         "batch_normalization/moving_variance"});

  Sequential loaded = load_model(dir.path);
  CHECK(loaded.layer(1).get_config() == model.layer(1).get_config());
  const auto& a = model.layer_variables(1);
  const auto& b = loaded.layer_variables(1);
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) CHECK(*a[k].value == *b[k].value);
  CHECK(loaded.predict(x) == model.predict(x));
}

TEST_CASE("load_weights: into a freshly built model of the same layers") {
  TempDir dir("load_weights");
  Sequential saved = trained_model();
  save_model(saved, dir.path);
  // Other names and seed: layers match by order, class and shapes.
  Sequential fresh(5, 99);
  fresh.add(Dense(DenseConfig{.units = 8, .name = "hidden"}));
  fresh.add(BatchNormalization({.momentum = 0.9f, .name = "norm"}));
  fresh.add(Activation("relu"));
  fresh.add(Dense(1, "sigmoid"));
  const Tensor x = eval_inputs();
  CHECK_FALSE(fresh.predict(x) == saved.predict(x));
  load_weights(fresh, dir.path);
  CHECK(fresh.predict(x) == saved.predict(x));
  CHECK(bn_of(fresh).moving_variance == bn_of(saved).moving_variance);
}

TEST_CASE("load_weights: other layers are refused with the weight and both shapes named") {
  TempDir dir("load_weights_mismatch");
  Sequential saved = trained_model();
  save_model(saved, dir.path);
  const std::string file = (dir / "model.json").string();

  Sequential wider(5, 1);
  wider.add(Dense(7));
  wider.add(BatchNormalization());
  wider.add(Activation("relu"));
  wider.add(Dense(1, "sigmoid"));
  const Tensor kernel = dynamic_cast<Dense&>(wider.layer(0)).kernel;
  CHECK(error_of([&] { load_weights(wider, dir.path); }) ==
        file + ": weightsManifest[0].weights[0]: weight 'dense/kernel' has shape [5, 8], but " +
            "layer 0 'dense' (Dense) expects [5, 7]");
  CHECK(dynamic_cast<Dense&>(wider.layer(0)).kernel == kernel);  // unchanged

  Sequential shorter(5, 1);
  shorter.add(Dense(8));
  CHECK(error_of([&] { load_weights(shorter, dir.path); }) ==
        file + ": the saved model has 4 layers, this model 1; its weights fit the same layers " +
            "in the same order");

  Sequential other_class(5, 1);
  other_class.add(Dense(8));
  other_class.add(Activation("relu"));
  other_class.add(BatchNormalization());
  other_class.add(Dense(1, "sigmoid"));
  CHECK(error_of([&] { load_weights(other_class, dir.path); }) ==
        file + ": layer 1 is 'batch_normalization' (BatchNormalization) in the saved model but " +
            "'activation' (Activation) in this model");

  Sequential no_bias(5, 1);
  no_bias.add(Dense(8, "linear", false));
  no_bias.add(BatchNormalization());
  no_bias.add(Activation("relu"));
  no_bias.add(Dense(1, "sigmoid"));
  CHECK(error_of([&] { load_weights(no_bias, dir.path); })
            .starts_with(file + ": weightsManifest[0].weights[1]: weight 'dense/bias' belongs to "
                                "no layer of the model, whose weights are: dense/kernel, "));
}

TEST_CASE("save_model: an interrupted save leaves the previous model and no temporary file") {
  TempDir dir("atomic");
  Sequential first = trained_model(1), second = trained_model(2);
  const Tensor x = eval_inputs();
  save_model(first, dir.path);
  const std::string pid = std::to_string(::getpid());
  for (const std::string blocked : {"weights.bin.tmp-", "model.json.tmp-"}) {
    CAPTURE(blocked);
    // A directory where a temporary file should go makes the save fail part way.
    fs::create_directory(dir / (blocked + pid));
    CHECK(error_of([&] { save_model(second, dir.path); }).find("cannot create it") !=
          std::string::npos);
    fs::remove(dir / (blocked + pid));
    CHECK(listing(dir.path) == std::set<std::string>{"model.json", "weights.bin"});
    CHECK(load_model(dir.path).predict(x) == first.predict(x));
  }
  save_model(second, dir.path);
  CHECK(listing(dir.path) == std::set<std::string>{"model.json", "weights.bin"});
  CHECK(load_model(dir.path).predict(x) == second.predict(x));

  write_text(dir / "a_file", "");
  CHECK(error_of([&] {
          save_model(second, dir / "a_file");
        }).starts_with((dir / "a_file").string() + ": cannot create the model directory"));
}

TEST_CASE("load_model: every malformed field is an error naming the file and the field") {
  TempDir root("malformed");
  Sequential model = trained_model();
  save_model(model, root / "good");
  const json good = read_json(root / "good" / "model.json");
  const fs::path bin = root / "good" / "weights.bin";
  const auto bin_size = fs::file_size(bin);
  write_text(root / "outside.bin", std::string(bin_size, '\0'));

  using Case = testing::ModelFileCase;
  auto weight = [](json& m, int i) -> json& { return m["weightsManifest"][0]["weights"][i]; };
  const std::vector<Case> cases = {
      {"parent path", [](json& m) { m["weightsManifest"][0]["paths"][0] = "../weights.bin"; },
       nullptr,
       "weightsManifest[0].paths[0]: expected the name of a file in the model's directory (no "
       "'/', no \"..\"), got \"../weights.bin\""},
      {"absolute path", [](json& m) { m["weightsManifest"][0]["paths"][0] = "/etc/passwd"; },
       nullptr,
       "weightsManifest[0].paths[0]: expected the name of a file in the model's directory (no "
       "'/', no \"..\"), got \"/etc/passwd\""},
      {"subdirectory", [](json& m) { m["weightsManifest"][0]["paths"][0] = "a/weights.bin"; },
       nullptr,
       "weightsManifest[0].paths[0]: expected the name of a file in the model's directory (no "
       "'/', no \"..\"), got \"a/weights.bin\""},
      {"dtype", [&](json& m) { weight(m, 0)["dtype"] = "float16"; }, nullptr,
       "weightsManifest[0].weights[0].dtype: expected one of \"float32\", got \"float16\""},
      {"zero dimension",
       [&](json& m) {
         weight(m, 0)["shape"] = {0, 8};
       },
       nullptr,
       "weightsManifest[0].weights[0].shape: expected an array of positive integers, got array "
       "[0,8]"},
      {"negative dimension",
       [&](json& m) {
         weight(m, 0)["shape"] = {-5, 8};
       },
       nullptr,
       "weightsManifest[0].weights[0].shape: expected an array of positive integers, got "
       "array [-5,8]"},
      {"fractional dimension",
       [&](json& m) {
         weight(m, 0)["shape"] = {5.5, 8};
       },
       nullptr,
       "weightsManifest[0].weights[0].shape: expected an array of positive integers, got "
       "array [5.5,8]"},
      {"huge shape",
       [&](json& m) {
         weight(m, 0)["shape"] = {65536, 65536, 65536};
       },
       nullptr,
       "weightsManifest[0].weights[0].shape: array [65536,65536,65536] holds more than 268435456 "
       "values, the most normlab reads"},
      {"huge total",
       [&](json& m) {
         weight(m, 0)["shape"] = {16384, 16384};
         weight(m, 1)["shape"] = {1};
       },
       nullptr,
       "weightsManifest[0].weights[1]: the weights hold more than 268435456 floats in all, the "
       "most normlab reads"},
      {"missing weight", [](json& m) { m["weightsManifest"][0]["weights"].erase(1); }, nullptr,
       "weightsManifest: no weight 'dense/bias', which layer 0 'dense' (Dense) needs with shape "
       "[8]; the manifest has: dense/kernel, batch_normalization/gamma, batch_normalization/beta, "
       "dense_1/kernel, dense_1/bias, batch_normalization/moving_mean, "
       "batch_normalization/moving_variance"},
      {"extra weight",
       [](json& m) {
         m["weightsManifest"][0]["weights"].push_back(
             {{"name", "dense/extra"}, {"shape", {1}}, {"dtype", "float32"}});
       },
       nullptr,
       "weightsManifest[0].weights[8]: weight 'dense/extra' belongs to no layer of the model, "
       "whose weights are: dense/kernel, dense/bias, batch_normalization/gamma, "
       "batch_normalization/beta, batch_normalization/moving_mean, "
       "batch_normalization/moving_variance, dense_1/kernel, dense_1/bias"},
      {"duplicate weight", [&](json& m) { weight(m, 1) = weight(m, 0); }, nullptr,
       "weightsManifest[0].weights[1].name: weight 'dense/kernel' is listed twice (also at "
       "weightsManifest[0].weights[0])"},
      {"shape mismatch",
       [&](json& m) {
         weight(m, 0)["shape"] = {8, 5};
       },
       nullptr,
       "weightsManifest[0].weights[0]: weight 'dense/kernel' has shape [8, 5], but layer 0 "
       "'dense' (Dense) expects [5, 8]"},
      {"quantized",
       [&](json& m) {
         weight(m, 0)["quantization"] = {{"dtype", "uint8"}};
       },
       nullptr,
       "weightsManifest[0].weights[0].quantization: expected none (normlab reads plain float32 "
       "weights), got object {\"dtype\":\"uint8\"}"},
      {"unknown key", [](json& m) { m["signature"] = json::object(); }, nullptr,
       "signature: unknown key; the known keys here are: convertedBy, format, generatedBy, "
       "modelTopology, trainingConfig, userDefinedMetadata, weightsManifest"},
      {"graph model", [](json& m) { m["format"] = "graph-model"; }, nullptr,
       "format: expected \"layers-model\" (a TensorFlow.js Layers model; graph models are not "
       "read), got \"graph-model\""},
      {"no manifest", [](json& m) { m.erase("weightsManifest"); }, nullptr,
       "weightsManifest: missing; a saved model lists its weights there"},
      {"layer config",
       [](json& m) { m["modelTopology"]["config"]["layers"][1]["config"]["momentum"] = 1.5; },
       nullptr,
       "modelTopology.config.layers[1].config.momentum: expected a number in [0, 1), got 1.5"},
      {"normlab metadata",
       [](json& m) {
         m["userDefinedMetadata"]["normlab"]["layers"]["batch_normalization"]["config"]
          ["moving_variance_update"] = "sideways";
       },
       nullptr,
       "modelTopology.config.layers[1].config.moving_variance_update: expected one of "
       "\"biased\", \"unbiased\""},
      {"too many layers",
       [](json& m) {
         json& layers = m["modelTopology"]["config"]["layers"];
         while (layers.size() <= kMaxLayers) layers.push_back(layers[2]);
       },
       nullptr, "modelTopology.config.layers: 1001 layers; normlab reads models of at most 1000"},
      {"huge layers",
       [](json& m) {
         json& layers = m["modelTopology"]["config"]["layers"];
         layers[0]["config"]["batch_input_shape"] = {nullptr, 1 << 24};
         layers[0]["config"]["units"] = 1 << 24;
       },
       nullptr,
       "modelTopology.config.layers[0]: the model's weights would exceed 268435456 floats (1 "
       "GiB), the most normlab reads"},
      {"short weights", nullptr,
       [&](const fs::path& d) { fs::resize_file(d / "weights.bin", bin_size - 4); },
       "/weights.bin: 352 bytes, but model.json's weightsManifest[0] lists 89 float32 values "
       "(356 bytes)"},
      {"long weights", nullptr,
       [&](const fs::path& d) { fs::resize_file(d / "weights.bin", bin_size + 1); },
       "/weights.bin: 357 bytes, but model.json's weightsManifest[0] lists 89 float32 values "
       "(356 bytes)"},
      {"no weights", nullptr, [](const fs::path& d) { fs::remove(d / "weights.bin"); },
       "/weights.bin: missing (model.json lists it in weightsManifest)"},
      {"escaping link", nullptr,
       [&](const fs::path& d) {
         fs::remove(d / "weights.bin");
         fs::create_symlink(root / "outside.bin", d / "weights.bin");
       },
       "/weights.bin: a symbolic link leading out of the model's directory (to " +
           (root / "outside.bin").string() + ")"},
      {"not JSON", nullptr, [](const fs::path& d) { write_text(d / "model.json", "{\"format\":"); },
       "not valid JSON: [json.exception.parse_error.101] parse error at line 1, column 11: "
       "syntax error while parsing value - unexpected end of input; expected '[', '{', or a "
       "literal"},
      {"no model.json", nullptr, [](const fs::path& d) { fs::remove(d / "model.json"); },
       "cannot read it: No such file or directory (a saved model is a directory holding "
       "model.json and weights.bin)"},
  };
  testing::check_model_file_cases(root.path, cases);

  // A symbolic link to a file in the model's own directory is fine.
  const fs::path linked = root / "linked";
  fs::copy(root / "good", linked);
  fs::rename(linked / "weights.bin", linked / "data.bin");
  fs::create_symlink("data.bin", linked / "weights.bin");
  CHECK(load_model(linked).predict(eval_inputs()) == model.predict(eval_inputs()));
}

TEST_CASE("load_model: TensorFlow.js' trainingConfig and optimizer weights") {
  TempDir dir("tfjs_training");
  Sequential model = trained_model();
  save_model(model, dir.path);
  // As TensorFlow.js saves with includeOptimizer: camelCase optimizer settings, and its
  // optimizer's variables in the manifest (group "optimizer"), which normlab skips.
  json file = read_json(dir / "model.json");
  file["trainingConfig"] = json::parse(kTfjsTrainingConfig);
  file["weightsManifest"][0]["weights"].push_back(json::parse(kTfjsWeightSpecs).back());
  write_text(dir / "model.json", file.dump());
  std::ofstream(dir / "weights.bin", std::ios::binary | std::ios::app).write("\1\0\0\0", 4);

  Sequential loaded = load_model(dir.path);
  CHECK(loaded.predict(eval_inputs()) == model.predict(eval_inputs()));
  REQUIRE(loaded.compiled());
  CHECK(optimizer_to_json(loaded.optimizer()) ==
        optimizer_to_json(
            Adam({.learning_rate = 0.01f, .epsilon_placement = EpsilonPlacement::PyTorch})));
}

TEST_CASE("load_model: weights split into shard files as the TensorFlow.js converter writes them") {
  TempDir dir("shards");
  Sequential model = trained_model();
  save_model(model, dir.path);
  // Two groups, the first in two shards cut in the middle of a float.
  json file = read_json(dir / "model.json");
  json weights = file["weightsManifest"][0]["weights"];
  const json first(weights.begin(), weights.begin() + 3),
      second(weights.begin() + 3, weights.end());
  file["weightsManifest"] = {
      {{"paths", {"group1-shard1of2.bin", "group1-shard2of2.bin"}}, {"weights", first}},
      {{"paths", {"group2-shard1of1.bin"}}, {"weights", second}}};
  write_text(dir / "model.json", file.dump());
  std::ifstream in(dir / "weights.bin", std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t group1 = (40 + 8 + 8) * sizeof(float);
  write_text(dir / "group1-shard1of2.bin", data.substr(0, 101));
  write_text(dir / "group1-shard2of2.bin", data.substr(101, group1 - 101));
  write_text(dir / "group2-shard1of1.bin", data.substr(group1));
  fs::remove(dir / "weights.bin");
  CHECK(load_model(dir.path).predict(eval_inputs()) == model.predict(eval_inputs()));

  // Each group's files must hold exactly its weights.
  write_text(dir / "group1-shard2of2.bin", data.substr(101, group1 - 97));
  CHECK(error_of([&] { load_model(dir.path); }) ==
        (dir / "group1-shard1of2.bin").string() + " + " + (dir / "group1-shard2of2.bin").string() +
            ": 228 bytes, but model.json's " +
            "weightsManifest[0] lists 56 float32 values (224 bytes)");
}

TEST_CASE("model file: a layer's state beyond Keras' weights goes to userDefinedMetadata") {
  // Poses as Activation (linear) and keeps a non-trainable array Keras has no weight for.
  class CountingActivation final : public Layer {
   public:
    std::string class_name() const override { return "Activation"; }
    json get_config() const override {
      return {{"name", name_}, {"trainable", trainable_}, {"activation", "linear"}};
    }
    std::size_t output_dim() const override { return input_dim_; }
    const Tensor& forward(const Tensor& x, const StepContext&) override { return x; }
    const Tensor& backward(const Tensor& dy) override { return dy; }
    std::vector<Variable> variables() override { return {{"batches_seen", &count, nullptr}}; }
    Tensor count;

   private:
    void build_weights(Rng&) override { count = Tensor(1, 2); }
  };
  auto make = [] {
    Sequential model(3, 1);
    model.add(Dense(2));
    model.add(std::make_unique<CountingActivation>());
    return model;
  };
  TempDir dir("state");
  Sequential model = make();
  dynamic_cast<CountingActivation&>(model.layer(1)).count = Tensor{{3.5f, 7.0f}};
  save_model(model, dir.path);
  json file = read_json(dir / "model.json");
  CHECK(file["userDefinedMetadata"]["normlab"]["layers"]["activation"]["state"] ==
        json{{"batches_seen", {3.5, 7.0}}});
  CHECK(file["weightsManifest"][0]["weights"].size() == 2);

  Sequential fresh = make();
  load_weights(fresh, dir.path);
  CHECK(dynamic_cast<CountingActivation&>(fresh.layer(1)).count == Tensor{{3.5f, 7.0f}});

  const std::string prefix = (dir / "model.json").string() + ": ";
  CHECK(error_of([&] { load_model(dir.path); }) ==
        prefix +
            "userDefinedMetadata.normlab.layers.activation.state.batches_seen: belongs to "
            "no layer of the model");
  file["userDefinedMetadata"]["normlab"]["layers"]["activation"]["state"]["batches_seen"] = {1};
  write_text(dir / "model.json", file.dump());
  CHECK(error_of([&] { load_weights(fresh, dir.path); }) ==
        prefix +
            "userDefinedMetadata.normlab.layers.activation.state.batches_seen: expected 2 "
            "numbers (layer 1 'activation' (Activation), shape [2]), got array [1]");
  file["userDefinedMetadata"]["normlab"].erase("layers");
  write_text(dir / "model.json", file.dump());
  CHECK(error_of([&] { load_weights(fresh, dir.path); }) ==
        prefix +
            "userDefinedMetadata.normlab.layers.activation.state.batches_seen: missing; "
            "layer 1 'activation' (Activation) keeps its 'batches_seen' there");
}

TEST_CASE("read_model_info: generator and version and training config and the caller's metadata") {
  TempDir dir("info");
  Sequential model = trained_model();
  save_model(model, dir.path, {{"run", {{"epochs", 4}}}});
  const ModelInfo info = read_model_info(dir.path);
  CHECK(info.generated_by == std::string("normlab ") + version());
  CHECK(info.normlab_version == version());
  CHECK(info.training_config["loss"] == "binary_crossentropy");
  CHECK(info.metadata == json{{"run", {{"epochs", 4}}}});
  CHECK(error_of([&] {
          save_model(model, dir.path, {{"normlab", 1}});
        }) ==
        "save_model: the metadata key \"normlab\" holds normlab's own entries; use another key");
}

TEST_CASE("model_from_json: normlab's form with JSON-path errors") {
  const json layers = json::parse(R"([
      {"class_name": "Dense", "config": {"units": 6}},
      {"class_name": "Dense", "config": {"units": 3, "activation": "relu"}},
      {"class_name": "BatchNormalization", "config": {"momentum": 0.95,
                                                      "moving_variance_update": "unbiased"}},
      {"class_name": "Activation", "config": {"activation": "sigmoid"}}])");
  const json config = {{"input_dim", 4}, {"layers", layers}};
  Sequential model = model_from_json(config, "model", ".", 5);
  CHECK(model.input_dim() == 4);
  CHECK(model.num_layers() == 4);
  CHECK(model.output_dim() == 3);
  const auto& bn = dynamic_cast<BatchNormalization&>(model.layer(2));
  CHECK(bn.config().momentum == 0.95f);
  CHECK(bn.config().moving_variance_update == VarianceUpdate::Unbiased);
  // The seed draws the weights.
  const Tensor x{{1, 2, 3, 4}};
  CHECK(model_from_json(config, "model", ".", 5).predict(x) == model.predict(x));
  CHECK_FALSE(model_from_json(config, "model", ".", 6).predict(x) == model.predict(x));

  json bad = config;
  bad["layers"][2]["config"]["momentum"] = 1.5;
  CHECK(error_of([&] { model_from_json(bad, "model", ".", 0); }) ==
        "model.layers[2].config.momentum: expected a number in [0, 1), got 1.5");
  bad = config;
  bad["layers"][0]["config"]["unit"] = 6;
  CHECK(error_of([&] {
          model_from_json(bad, "model", ".", 0);
        }).starts_with("model.layers[0].config.unit: unknown key; the known keys here are: "));
  bad = config;
  bad.erase("input_dim");
  CHECK(error_of([&] { model_from_json(bad, "model", ".", 0); }) ==
        "model: no input width; give \"input_dim\": N, or \"batch_input_shape\": [null, N] on "
        "the first layer");
  bad = config;
  bad["input_dim"] = 0;
  CHECK(error_of([&] { model_from_json(bad, "model", ".", 0); }) ==
        "model.input_dim: expected N with N in [1, 16777216], one feature dimension (normlab "
        "models take rows of N features), got 0");
  bad = config;
  bad["layers"] = json::array();
  CHECK(error_of([&] { model_from_json(bad, "model", ".", 0); }) ==
        "model.layers: expected a non-empty array of layers [{\"class_name\": ..., \"config\": "
        "{...}}, ...], got array []");
  bad = config;
  bad["layers"][1]["config"]["name"] = "dense";
  bad["layers"][0]["config"]["name"] = "dense";
  CHECK(error_of([&] { model_from_json(bad, "model", ".", 0); }) ==
        "model.layers[1]: Sequential::add: a layer named 'dense' is already in the model");
}

TEST_CASE("model_from_json: tf.keras 2.x and TensorFlow.js topologies") {
  // tf.keras 2.x's model.to_json(), as in TensorFlow.js' own tests.
  const json keras2 = json::parse(R"({"class_name": "Sequential", "config": {"name": "sequential",
      "layers": [{"class_name": "Dense", "config": {"name": "dense", "trainable": true,
        "batch_input_shape": [null, 5], "dtype": "float32", "units": 10, "activation": "linear",
        "use_bias": true,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null,
        "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
        "bias_constraint": null}},
       {"class_name": "BatchNormalization", "config": {"name": "batch_normalization",
        "trainable": true, "dtype": "float32", "axis": [1], "momentum": 0.99, "epsilon": 0.001,
        "center": true, "scale": true,
        "beta_initializer": {"class_name": "Zeros", "config": {}},
        "gamma_initializer": {"class_name": "Ones", "config": {}},
        "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
        "moving_variance_initializer": {"class_name": "Ones", "config": {}},
        "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null,
        "gamma_constraint": null}},
       {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "dtype": "float32",
        "units": 1, "activation": "sigmoid", "use_bias": true,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null,
        "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
        "bias_constraint": null}}]},
    "keras_version": "2.4.0", "backend": "tensorflow"})");
  const auto check_model = [](const Sequential& m) {
    CHECK(m.input_dim() == 5);
    REQUIRE(m.num_layers() == 3);
    CHECK(m.layer(0).name() == "dense");
    CHECK(m.layer(1).class_name() == "BatchNormalization");
    CHECK(m.output_dim() == 1);
  };
  check_model(model_from_json(keras2, "model", ".", 0));
  // What TensorFlow.js writes (VarianceScaling initializers included).
  const Sequential tfjs = model_from_json(json::parse(kTfjsTopology), "model", ".", 0);
  CHECK(tfjs.input_dim() == 5);
  CHECK(tfjs.num_layers() == 4);
  CHECK(tfjs.layer(0).get_config()["kernel_initializer"] == "glorot_uniform");

  json variant = keras2;
  json& first = variant["config"]["layers"][0]["config"];
  first.erase("batch_input_shape");
  first["input_shape"] = {5};
  check_model(model_from_json(variant, "model", ".", 0));
  first.erase("input_shape");
  first["input_dim"] = 5;
  check_model(model_from_json(variant, "model", ".", 0));
  // tf.keras >= 2.4 puts an InputLayer first.
  first.erase("input_dim");
  variant["config"]["layers"].insert(
      variant["config"]["layers"].begin(),
      json::parse(R"({"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5],
          "dtype": "float32", "sparse": false, "ragged": false, "name": "dense_input"}})"));
  check_model(model_from_json(variant, "model", ".", 0));
  // The TensorFlow.js converter's wrapper.
  check_model(model_from_json(
      {{"keras_version", "2.4.0"}, {"backend", "tensorflow"}, {"model_config", keras2}}, "model",
      ".", 0));

  const auto error_with = [&](const std::function<void(json&)>& edit) {
    json t = keras2;
    edit(t);
    return error_of([&] { model_from_json(t, "model", ".", 0); });
  };
  const std::string first_path = "model.config.layers[0].config.batch_input_shape";
  CHECK(error_with([](json& t) {
          t["config"]["layers"][0]["config"]["batch_input_shape"] = {nullptr, 28, 28};
        }) == first_path +
                  ": expected [null, N] with N in [1, 16777216], one feature dimension "
                  "(normlab models take rows of N features), got array [null,28,28]");
  CHECK(error_with([](json& t) {
          t["config"]["layers"][0]["config"]["batch_input_shape"] = {32, 5};
        }).starts_with(first_path + ": expected [null, N]"));
  CHECK(error_with([](json& t) {
          t["config"]["layers"][1]["config"]["batch_input_shape"] = {nullptr, 10};
        }) ==
        "model.config.layers[1].config.batch_input_shape: only the first layer gives the "
        "input shape");
  CHECK(error_with([](json& t) { t["class_name"] = "Functional"; }) ==
        "model.class_name: expected \"Sequential\" (normlab builds Sequential models), got "
        "\"Functional\"");
  CHECK(error_with([](json& t) {
          t["config"]["layers"].push_back(
              {{"class_name", "InputLayer"}, {"config", {{"batch_input_shape", {nullptr, 1}}}}});
        }) == "model.config.layers[3]: an InputLayer may only come first");
  CHECK(error_with([](json& t) {
          t["config"]["build_input_shape"] = {nullptr, 6};
        }) == first_path + ": input width 5 disagrees with model.config.build_input_shape (6)");
  CHECK(error_with([](json& t) {
          t["config"]["layers"][0]["class_name"] = "Conv2D";
        }).starts_with("model.config.layers[0].config: unknown layer class 'Conv2D'"));
  // TensorFlow.js' default Dense initializer, glorot_normal, is not one normlab draws: an error
  // for a model to train, the layer's default when saved weights replace it (load_model).
  CHECK(error_with([](json& t) {
          t["config"]["layers"][0]["config"]["kernel_initializer"] = {
              {"class_name", "VarianceScaling"},
              {"config", {{"scale", 1}, {"mode", "fan_avg"}, {"distribution", "normal"}}}};
        })
            .starts_with("model.config.layers[0].config.kernel_initializer: expected one of "
                         "glorot_uniform, he_uniform, torch_uniform, zeros, ones, got object "
                         "{\"class_name\":\"VarianceScaling\""));
}

TEST_CASE("model_from_json: Keras 3 topologies") {
  // Keras 3's model.to_json() for Input(8) -> Dense(12, relu) -> BatchNormalization ->
  // Dense(1, sigmoid).
  const json keras3 = json::parse(R"({"module": "keras", "class_name": "Sequential", "config": {
      "name": "sequential", "trainable": true, "dtype": {"module": "keras",
        "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
      "layers": [
       {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 8],
        "dtype": "float32", "sparse": false, "ragged": false, "name": "input_layer"},
        "registered_name": null},
       {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense",
        "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy",
        "config": {"name": "float32"}, "registered_name": null}, "units": 12,
        "activation": "relu", "use_bias": true,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
          "config": {"seed": null}, "registered_name": null},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
          "registered_name": null},
        "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null,
        "bias_constraint": null}, "registered_name": null,
        "build_config": {"input_shape": [null, 8]}},
       {"module": "keras.layers", "class_name": "BatchNormalization", "config": {
        "name": "batch_normalization", "trainable": true, "dtype": {"module": "keras",
        "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
        "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true,
        "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros",
          "config": {}, "registered_name": null},
        "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones",
          "config": {}, "registered_name": null},
        "moving_mean_initializer": {"module": "keras.initializers", "class_name": "Zeros",
          "config": {}, "registered_name": null},
        "moving_variance_initializer": {"module": "keras.initializers", "class_name": "Ones",
          "config": {}, "registered_name": null},
        "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null,
        "gamma_constraint": null, "synchronized": false}, "registered_name": null,
        "build_config": {"input_shape": [null, 12]}},
       {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense_1",
        "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy",
        "config": {"name": "float32"}, "registered_name": null}, "units": 1,
        "activation": "sigmoid", "use_bias": true,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
          "config": {"seed": null}, "registered_name": null},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
          "registered_name": null},
        "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null,
        "bias_constraint": null}, "registered_name": null,
        "build_config": {"input_shape": [null, 12]}}],
      "build_input_shape": [null, 8]},
    "registered_name": null, "build_config": {"input_shape": [null, 8]}})");
  Sequential model = model_from_json(keras3, "model", ".", 0);
  CHECK(model.input_dim() == 8);
  REQUIRE(model.num_layers() == 3);
  CHECK(model.layer(0).name() == "dense");
  CHECK(model.layer(1).name() == "batch_normalization");
  CHECK(model.output_dim() == 1);

  json bad = keras3;
  bad["config"]["layers"][1]["config"]["lora_alpha"] = 16;
  CHECK(error_of([&] {
          model_from_json(bad, "model", ".", 0);
        }).starts_with("model.config.layers[1].config.lora_alpha: unknown key"));
  bad = keras3;
  bad["config"]["layers"][0]["config"]["batch_shape"] = {nullptr, 8, 3};
  CHECK(error_of([&] {
          model_from_json(bad, "model", ".", 0);
        }).starts_with("model.config.layers[0].config.batch_shape: expected [null, N]"));
  bad = keras3;
  bad["config"]["trainable"] = false;
  Sequential frozen = model_from_json(bad, "model", ".", 0);
  CHECK_FALSE(frozen.layer(0).trainable());
  CHECK(frozen.count_params(true) == 0);
}

TEST_CASE("model_from_json: a model.json object and a saved model's directory") {
  TempDir dir("from_json");
  Sequential saved = trained_model();
  save_model(saved, dir / "saved");
  const Tensor x = eval_inputs();

  // The directory, relative to base_dir: weights included.
  Sequential loaded = model_from_json("saved", "model", dir.path, 0);
  CHECK(loaded.predict(x) == saved.predict(x));
  CHECK(error_of([&] { model_from_json("missing", "model", dir.path, 0); }) ==
        "model: " + (dir / "missing" / "model.json").string() +
            ": cannot read it: No such file or directory (a saved model is a directory holding "
            "model.json and weights.bin)");

  // The model.json object: its topology, with fresh weights.
  const json file = read_json(dir / "saved" / "model.json");
  Sequential rebuilt = model_from_json(file, "model", dir.path, 0);
  CHECK(model_to_topology(rebuilt) == model_to_topology(saved));
  CHECK_FALSE(rebuilt.predict(x) == saved.predict(x));
  json bad = file;
  bad["modelTopology"]["config"]["layers"][0]["config"]["units"] = -1;
  CHECK(error_of([&] { model_from_json(bad, "model", dir.path, 0); }) ==
        "model.modelTopology.config.layers[0].config.units: expected an integer in [1, "
        "16777216], got -1");
}
