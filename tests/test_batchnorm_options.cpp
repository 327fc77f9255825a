// BatchNormalization's options as a whole (docs/batchnorm-options.md): the config keys and their
// errors, the pytorch_momentum key, the presets (a short training against PyTorch, from
// tests/torch_golden/), every option through save -> load, and tests/torch_golden/generate.py
// reproducing its JSON. Each part of the layer has its own file: test_bn_renorm.cpp,
// test_bn_batch_moments.cpp, test_bn_moving_average.cpp, test_bn_training_policy.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/model_file.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "layers/presets.h"
#include "layers/registry.h"
#include "model/sequential.h"
#include "optim/adam.h"
#include "optim/registry.h"

#include "batchnorm_options_support.h"
#include "error_of.h"
#include "temp_dir.h"

using namespace normlab;
using namespace normlab::bn_options;

TEST_CASE("BatchNormalization options: plain BN keeps Keras' four weights and config keys") {
  auto bn = make_bn(json::object(), 3);
  const auto vars = bn->variables();
  REQUIRE(vars.size() == 4);
  CHECK(vars[0].name == "gamma");
  CHECK(vars[3].name == "moving_variance");
  const json config = bn->get_config();
  std::vector<std::string> keys;
  for (auto it = config.begin(); it != config.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"axis", "beta_initializer", "center", "epsilon",
                                         "gamma_initializer", "momentum", "moving_mean_initializer",
                                         "moving_variance_initializer", "moving_variance_update",
                                         "name", "scale", "trainable"});
}

TEST_CASE("BatchNormalization options: config errors name the key and the rule") {
  const auto error_of = [](const json& config) {
    return testing::error_of([&] { make_bn(config, 2); });
  };
  CHECK(error_of({{"momentum", 0.9}, {"pytorch_momentum", 0.1}}).find("bn.pytorch_momentum") !=
        std::string::npos);
  CHECK(error_of({{"renorm_clipping", {{"rmax", 2}}}}).find("need renorm: true") !=
        std::string::npos);
  CHECK(error_of({{"renorm", true},
                  {"renorm_clipping", {{"rmax", 2}}},
                  {"renorm_schedule", json::object()}})
            .find("not both") != std::string::npos);
  CHECK(error_of({{"renorm", true}, {"renorm_clipping", {{"rmax", 0.5}}}})
            .find("bn.renorm_clipping.rmax") != std::string::npos);
  CHECK(error_of({{"renorm", true}, {"renorm_clipping", {{"r_max", 2}}}})
            .find("bn.renorm_clipping.r_max: unknown key") != std::string::npos);
  CHECK(error_of({{"momentum", nullptr}, {"moving_average_debias", true}})
            .find("moving_average_debias needs a momentum") != std::string::npos);
  CHECK(error_of({{"moving_variance_update", "bessel"}}).find("\"keras2\"") != std::string::npos);
  CHECK(error_of({{"virtual_batch_size", 0}}).find("bn.virtual_batch_size") != std::string::npos);
}

TEST_CASE("BatchNormalization options: pytorch_momentum converts to Keras' convention") {
  CHECK(make_bn({{"pytorch_momentum", 0.1}}, 2)->config().momentum == 0.9f);
  CHECK(make_bn({{"pytorch_momentum", 0.1}}, 2)->get_config()["momentum"] == 0.9f);
  CHECK(make_bn({{"pytorch_momentum", nullptr}}, 2)->config().cumulative_average);
  CHECK(make_bn({{"momentum", nullptr}}, 2)->get_config()["momentum"].is_null());
  CHECK_FALSE(make_bn(json::object(), 2)->config().cumulative_average);
}

// ---- presets ---------------------------------------------------------------------------------

TEST_CASE("BatchNormalization options: presets fill the framework's settings") {
  const json model = {
      {"input_dim", 4},
      {"preset", "pytorch"},
      {"layers",
       {{{"class_name", "Dense"}, {"config", {{"units", 3}}}},
        {{"class_name", "BatchNormalization"}, {"config", {{"epsilon", 0.01}}}},
        {{"class_name", "BatchNormalization"}, {"config", {{"pytorch_momentum", 0.2}}}}}}};
  const json out = apply_preset("pytorch", model, "model");
  CHECK_FALSE(out.contains("preset"));
  CHECK(out["layers"][0]["config"]["kernel_initializer"] == "torch_uniform");
  const json& bn = out["layers"][1]["config"];
  CHECK(bn["epsilon"] == 0.01);  // given: kept
  CHECK(bn["momentum"] == 0.9);
  CHECK(bn["moving_variance_update"] == "unbiased");
  CHECK(bn["single_sample_policy"] == "error");
  CHECK_FALSE(out["layers"][2]["config"].contains("momentum"));
  CHECK(make_bn(out["layers"][2]["config"], 2)->config().momentum == doctest::Approx(0.8f));

  json ambiguous = model;
  ambiguous["layers"][1]["config"]["momentum"] = 0.1;
  CHECK_THROWS_WITH_AS(apply_preset("pytorch", ambiguous, "model"),
                       doctest::Contains("model.layers[1].config.momentum: under preset "
                                         "\"pytorch\" give pytorch_momentum"),
                       Error);
  CHECK(apply_preset("keras3", ambiguous, "model")["layers"][1]["config"]["momentum"] == 0.1);
  CHECK_THROWS_WITH_AS(apply_preset("caffe", model, "model"),
                       doctest::Contains("model.preset: unknown preset 'caffe'"), Error);

  const json adam = apply_preset_to_optimizer("pytorch", "adam", "compile.optimizer");
  CHECK(adam["config"]["epsilon"] == 1e-8);
  CHECK(adam["config"]["epsilon_placement"] == "pytorch");
  CHECK(apply_preset_to_optimizer("tfjs", {{"class_name", "Adam"}, {"config", {{"epsilon", 0.1}}}},
                                  "o")["config"]["epsilon"] == 0.1);
  CHECK(apply_preset_to_optimizer("keras3", "sgd", "o") == "sgd");
  CHECK(preset_settings("tf_keras", "p").bn_momentum == 0.99);
}

TEST_CASE("BatchNormalization options: a short training under the pytorch preset matches PyTorch") {
  const json g = read_json(kGolden / "pytorch_preset_training.json");
  const json model_json = apply_preset(
      "pytorch",
      {{"input_dim", 4},
       {"preset", "pytorch"},
       {"layers",
        {{{"class_name", "Dense"}, {"config", {{"units", 8}, {"use_bias", false}}}},
         {{"class_name", "BatchNormalization"}, {"config", {{"pytorch_momentum", 0.01}}}},
         {{"class_name", "Activation"}, {"config", {{"activation", "relu"}}}},
         {{"class_name", "Dense"}, {"config", {{"units", 1}}}}}}},
      "model");
  Sequential model(4, 7);
  for (const json& layer : model_json["layers"])
    model.add(layer_from_config(layer["class_name"].get<std::string>(), layer["config"], "model"));
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    for (const auto& [name, values] : g["initial_weights"][i].items())
      set_variable(model.layer(i), name, values);
  model.compile(optimizer_from_json(
                    apply_preset_to_optimizer("pytorch",
                                              {{"class_name", "Adam"},
                                               {"config", {{"learning_rate", g["learning_rate"]}}}},
                                              "optimizer"),
                    "optimizer"),
                make_loss("mse"));
  const Tensor x = tensor_of(g["x"]), y = tensor_of(g["y"]);
  for (std::size_t t = 0; t < g["batch_schedule"].size(); ++t) {
    const std::size_t begin = g["batch_schedule"][t][0], end = g["batch_schedule"][t][1];
    Tensor xb(end - begin, 4), yb(end - begin, 1);
    std::copy(x.row(begin), x.row(end), xb.data());
    std::copy(y.row(begin), y.row(end), yb.data());
    CAPTURE(t);
    CHECK(model.train_on_batch(xb, yb) ==
          doctest::Approx(g["per_step_loss"][t].get<double>()).epsilon(1e-4));
  }
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    for (const auto& [name, values] : g["final_weights"][i].items())
      check_close(variable(model.layer(i), name), values, 1e-4, 1e-5,
                  "layer " + std::to_string(i) + " " + name);
  check_close(model.predict(tensor_of(g["eval_x"])), g["predictions"], 1e-4, 1e-5, "predictions");
}

// ---- save -> load ----------------------------------------------------------------------------

TEST_CASE("BatchNormalization options: every option survives save -> load") {
  const std::vector<json> options = {
      {{"momentum", nullptr}, {"moving_variance_update", "unbiased"}},
      {{"moving_average_debias", true}, {"momentum", 0.9}},
      {{"moving_variance_update", "keras2"}},
      {{"renorm", true},
       {"renorm_clipping", {{"rmax", 2}, {"rmin", 0.25}, {"dmax", 1}}},
       {"renorm_momentum", 0.9}},
      {{"renorm", true},
       {"renorm_schedule",
        {{"warmup_steps", 1}, {"rmax_steps", 5}, {"dmax_steps", 3}, {"rmax", 2}, {"dmax", 1}}}},
      {{"virtual_batch_size", 2}, {"virtual_batch_size_remainder", "merge"}},
      {{"freeze_statistics", true}, {"use_moving_statistics_in_training", true}},
      {{"weighted_statistics", true}},
      {{"single_sample_policy", "inference"}},
  };
  const Tensor x = ramp(10, 3, 1.0f, 0.5f), y = ramp(10, 1, 0.5f, 0.0f);
  std::vector<float> w(10);
  for (std::size_t i = 0; i < 10; ++i) w[i] = 0.5f + static_cast<float>(i % 3);
  for (const json& option : options) {
    CAPTURE(option.dump());
    Sequential model(3, 5);
    model.add(Dense(4));
    model.add(make_bn(option, 4));
    model.add(Dense(1));
    model.compile(Adam(), "mse");
    model.fit(x, y,
              {.batch_size = 5, .epochs = 2, .shuffle = false, .verbose = 0, .sample_weight = w});
    const testing::TempDir dir("bn_options");
    save_model(model, dir / "model");
    Sequential loaded = load_model(dir / "model");
    REQUIRE(loaded.num_layers() == 3);
    CHECK(loaded.layer(1).get_config() == model.layer(1).get_config());
    const auto& a = model.layer_variables(1);
    const auto& b = loaded.layer_variables(1);
    REQUIRE(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      CAPTURE(a[k].name);
      CHECK(a[k].name == b[k].name);
      CHECK(*a[k].value == *b[k].value);
    }
    // the resumed layer continues exactly where the saved one stopped
    auto& bn_a = dynamic_cast<BatchNormalization&>(model.layer(1));
    auto& bn_b = dynamic_cast<BatchNormalization&>(loaded.layer(1));
    const Tensor h = ramp(5, 4, 1.0f, 0.25f);
    const StepContext first_rows{.mode = Mode::Train, .sample_weight = std::span(w).first(5)};
    CHECK(bn_a.forward(h, first_rows) == bn_b.forward(h, first_rows));
    CHECK(bn_a.moving_variance == bn_b.moving_variance);
  }
}

// ---- the goldens' generator ------------------------------------------------------------------

TEST_CASE("BatchNormalization options: tests/torch_golden/generate.py reproduces its JSON") {
  if (std::system("/usr/bin/python3 -c 'import importlib.util, sys; "
                  "sys.exit(importlib.util.find_spec(\"torch\") is None)' > /dev/null 2>&1") != 0) {
    MESSAGE(
        "skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch "
        "python3-numpy); the committed golden files are used as they are");
    return;
  }
  const testing::TempDir tmp("bn_golden");
  const fs::path dir = tmp.path;
  const std::string command = "/usr/bin/python3 '" + (kGolden / "generate.py").string() + "' '" +
                              dir.string() + "' > /dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(kGolden)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    CAPTURE(entry.path().filename().string());
    json committed = read_json(entry.path()), fresh = read_json(dir / entry.path().filename());
    committed.erase("generated_by");
    fresh.erase("generated_by");
    const json a = committed.flatten(), b = fresh.flatten();
    CHECK(a.size() == b.size());
    for (const auto& [key, value] : a.items()) {
      CAPTURE(key);
      REQUIRE(b.contains(key));
      const json& other = b[key];
      if (value.is_number_float())
        CHECK(other.get<double>() == doctest::Approx(value.get<double>()).epsilon(1e-12));
      else
        CHECK(other == value);
    }
  }
  CHECK(files == 5);
}
