// The layer registry (layers/registry.h) and the optimizer registry (optim/registry.h): Keras 2
// and Keras 3 serializations in, ready objects out; every bad key or value an error naming its
// JSON path.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "layers/registry.h"
#include "optim/adam.h"
#include "optim/registry.h"
#include "optim/sgd.h"

using namespace normlab;
using nlohmann::json;

namespace {

const char* const kPath = "model.layers[2].config";

template <class L>
L& as(const std::unique_ptr<Layer>& layer) {
  REQUIRE(layer != nullptr);
  L* typed = dynamic_cast<L*>(layer.get());
  REQUIRE(typed != nullptr);
  return *typed;
}

// A Keras 3 serialized initializer object.
json keras3_initializer(const char* class_name) {
  return {{"module", "keras.initializers"},
          {"class_name", class_name},
          {"config", json::object()},
          {"registered_name", nullptr}};
}

const json kKeras3Dtype = {{"module", "keras"},
                           {"class_name", "DTypePolicy"},
                           {"config", {{"name", "float32"}}},
                           {"registered_name", nullptr}};

}  // namespace

TEST_CASE("Dense from a tf.keras 2 config (batch_input_shape, dtype string, initializer objects)") {
  const json config = json::parse(R"({
    "name": "dense", "trainable": true, "batch_input_shape": [null, 10], "dtype": "float32",
    "units": 64, "activation": "relu", "use_bias": true,
    "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
    "bias_initializer": {"class_name": "Zeros", "config": {}},
    "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
    "kernel_constraint": null, "bias_constraint": null})");
  const auto layer = layer_from_config("Dense", config, kPath);
  const Dense& d = as<Dense>(layer);
  CHECK(d.name() == "dense");
  CHECK(d.trainable());
  CHECK(d.config().units == 64);
  CHECK(d.config().activation == "relu");
  CHECK(d.config().kernel_initializer == "glorot_uniform");
  CHECK(d.config().bias_initializer == "zeros");
  CHECK_FALSE(d.built());  // batch_input_shape is ignored: the model sets the width
}

TEST_CASE("Dense and BatchNormalization from Keras 3 configs (dtype policies, module keys)") {
  const json dense = {{"name", "dense_1"},
                      {"trainable", false},
                      {"dtype", kKeras3Dtype},
                      {"units", 1},
                      {"activation", "sigmoid"},
                      {"use_bias", false},
                      {"kernel_initializer", keras3_initializer("HeUniform")},
                      {"bias_initializer", keras3_initializer("Zeros")},
                      {"kernel_regularizer", nullptr},
                      {"bias_regularizer", nullptr},
                      {"kernel_constraint", nullptr},
                      {"bias_constraint", nullptr}};
  const auto d = layer_from_config("Dense", dense, kPath);
  CHECK_FALSE(d->trainable());
  CHECK(as<Dense>(d).config().kernel_initializer == "he_uniform");
  CHECK_FALSE(as<Dense>(d).config().use_bias);

  const json bn = {{"name", "batch_normalization"},
                   {"trainable", true},
                   {"dtype", kKeras3Dtype},
                   {"axis", -1},
                   {"momentum", 0.95},
                   {"epsilon", 0.001},
                   {"center", true},
                   {"scale", false},
                   {"beta_initializer", keras3_initializer("Zeros")},
                   {"gamma_initializer", keras3_initializer("Ones")},
                   {"moving_mean_initializer", keras3_initializer("Zeros")},
                   {"moving_variance_initializer", keras3_initializer("Ones")},
                   {"beta_regularizer", nullptr},
                   {"gamma_regularizer", nullptr},
                   {"beta_constraint", nullptr},
                   {"gamma_constraint", nullptr},
                   {"synchronized", false}};
  const auto b = layer_from_config("BatchNormalization", bn, kPath);
  const auto& c = as<BatchNormalization>(b).config();
  CHECK(c.momentum == 0.95f);
  CHECK(c.epsilon == 1e-3f);
  CHECK(c.center);
  CHECK_FALSE(c.scale);
  CHECK(c.moving_variance_initializer == "ones");
  CHECK(b->name() == "batch_normalization");

  const json act = {
      {"name", "activation"}, {"trainable", true}, {"dtype", kKeras3Dtype}, {"activation", "tanh"}};
  const auto a = layer_from_config("Activation", act, kPath);
  CHECK(as<Activation>(a).kind() == ActivationKind::Tanh);
}

TEST_CASE("BatchNormalization from a tf.keras 2 config: axis [1], string initializers") {
  const json bn = json::parse(R"({
    "name": "bn", "trainable": true, "dtype": "float32", "axis": [1], "momentum": 0.99,
    "epsilon": 0.001, "center": true, "scale": true,
    "beta_initializer": {"class_name": "Zeros", "config": {}},
    "gamma_initializer": {"class_name": "Ones", "config": {}},
    "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones",
    "beta_regularizer": null, "gamma_regularizer": null,
    "beta_constraint": null, "gamma_constraint": null})");
  const auto b = layer_from_config("BatchNormalization", bn, kPath);
  CHECK(as<BatchNormalization>(b).config().momentum == 0.99f);
  // Defaults are Keras' when the config is empty or null.
  const auto defaults = layer_from_config("BatchNormalization", json(), kPath);
  CHECK(as<BatchNormalization>(defaults).config().momentum == 0.99f);
  CHECK(as<BatchNormalization>(defaults).config().epsilon == 1e-3f);
}

TEST_CASE("get_config round trip: layer_to_json then layer_from_config gives the same config") {
  Dense dense({.units = 7, .activation = "tanh", .use_bias = false, .name = "d"});
  BatchNormalization bn({.momentum = 0.9f,
                         .epsilon = 0.01f,
                         .center = false,
                         .moving_variance_update = VarianceUpdate::Unbiased,
                         .synchronized = true,
                         .name = "b"});
  Activation act(ActivationConfig{.activation = "softmax", .name = "a"});
  bn.set_trainable(false);
  for (const Layer* layer : std::initializer_list<const Layer*>{&dense, &bn, &act}) {
    const json j = layer_to_json(*layer);
    CAPTURE(j.dump());
    const auto back = layer_from_config(j["class_name"], j["config"], "layer");
    CHECK(back->class_name() == layer->class_name());
    CHECK(back->get_config() == layer->get_config());
  }
  CHECK(bn.get_config()["synchronized"] == true);
}

TEST_CASE("Layer configs: unknown keys, out-of-range values and regularizers are errors") {
  CHECK_THROWS_WITH_AS(layer_from_config("Dense", {{"units", 4}, {"unit", 4}}, kPath),
                       doctest::Contains("model.layers[2].config.unit: unknown key; the known keys "
                                         "here are:"),
                       Error);
  CHECK_THROWS_WITH_AS(layer_from_config("BatchNormalization", {{"momentum", 1.5}}, kPath),
                       "model.layers[2].config.momentum: expected a number in [0, 1), got 1.5",
                       Error);
  CHECK_THROWS_WITH_AS(layer_from_config("BatchNormalization", {{"momentum", 1.0}}, kPath),
                       doctest::Contains("expected a number in [0, 1), got 1.0"), Error);
  CHECK_THROWS_WITH_AS(layer_from_config("BatchNormalization", {{"momentum", -0.1}}, kPath),
                       doctest::Contains("momentum: expected a number in [0, 1), got -0.1"), Error);
  CHECK_THROWS_WITH_AS(layer_from_config("BatchNormalization", {{"epsilon", 0}}, kPath),
                       doctest::Contains("model.layers[2].config.epsilon: expected a number in "
                                         "(0, 1e+30], got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(layer_from_config("BatchNormalization", {{"axis", 0}}, kPath),
                       doctest::Contains("axis: expected -1 (the feature axis), got 0"), Error);
  CHECK_THROWS_WITH_AS(
      layer_from_config("BatchNormalization", {{"synchronized", true}, {"virtual_batch_size", 4}},
                        kPath),
      doctest::Contains("synchronized and virtual_batch_size exclude each other"), Error);
  CHECK_THROWS_WITH_AS(
      layer_from_config("BatchNormalization",
                        {{"gamma_regularizer", {{"class_name", "L2"}, {"config", {{"l2", 0.01}}}}}},
                        kPath),
      doctest::Contains("model.layers[2].config.gamma_regularizer: expected null (regularizers "
                        "and constraints are not supported)"),
      Error);
  CHECK_THROWS_WITH_AS(
      layer_from_config("Dense", {{"units", 4}, {"kernel_regularizer", "l2"}}, kPath),
      doctest::Contains("kernel_regularizer: expected null"), Error);
  CHECK_THROWS_WITH_AS(layer_from_config("Dense", {{"units", 0}}, kPath),
                       doctest::Contains("model.layers[2].config.units: expected an integer in "
                                         "[1, 16777216], got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(layer_from_config("Dense", json::object(), kPath),
                       "model.layers[2].config.units: expected a positive integer, got nothing",
                       Error);
  CHECK_THROWS_WITH_AS(layer_from_config("Dense", {{"units", 4}, {"activation", "gelu"}}, kPath),
                       doctest::Contains("activation: expected one of \"linear\", \"relu\", "
                                         "\"sigmoid\", \"tanh\", \"softmax\", got \"gelu\""),
                       Error);
  CHECK_THROWS_WITH_AS(
      layer_from_config("Dense", {{"units", 4}, {"kernel_initializer", "orthogonal"}}, kPath),
      doctest::Contains("model.layers[2].config.kernel_initializer: expected one of "
                        "glorot_uniform, he_uniform, torch_uniform, zeros, ones, got "
                        "\"orthogonal\""),
      Error);
  CHECK_THROWS_WITH_AS(
      layer_from_config("Dense",
                        {{"units", 4}, {"kernel_initializer", keras3_initializer("RandomNormal")}},
                        kPath),
      doctest::Contains("kernel_initializer: expected one of glorot_uniform"), Error);
  CHECK_THROWS_WITH_AS(layer_from_config("Dense", {{"units", 4}, {"trainable", "yes"}}, kPath),
                       doctest::Contains("trainable: expected true or false"), Error);
  CHECK_THROWS_WITH_AS(layer_from_config("Conv2D", json::object(), "model.layers[0]"),
                       "model.layers[0]: unknown layer class 'Conv2D'; expected one of "
                       "Activation, BatchNormalization, Dense, LayerNormalization",
                       Error);
}

TEST_CASE("optimizer_from_json: names, Keras objects and their defaults") {
  const auto adam = optimizer_from_json("adam", "compile.optimizer");
  const auto& a = dynamic_cast<const Adam&>(*adam);
  CHECK(a.config().learning_rate == 1e-3f);
  CHECK(a.config().beta_1 == 0.9f);
  CHECK(a.config().beta_2 == 0.999f);
  CHECK(a.config().epsilon == 1e-7f);

  const auto tuned = optimizer_from_json(
      {{"class_name", "Adam"},
       {"config", {{"learning_rate", 0.01}, {"beta_1", 0.8}, {"epsilon_placement", "pytorch"}}}},
      "compile.optimizer");
  const auto& t = dynamic_cast<const Adam&>(*tuned);
  CHECK(t.config().learning_rate == 0.01f);
  CHECK(t.config().beta_1 == 0.8f);
  CHECK(t.config().epsilon_placement == EpsilonPlacement::PyTorch);

  // Keras 3's full serialization, as model.optimizer.get_config() and serialize() write it.
  const json keras3 = json::parse(R"({
    "module": "keras.optimizers", "class_name": "Adam", "registered_name": null,
    "config": {"name": "adam", "learning_rate": 0.002, "weight_decay": null, "clipnorm": null,
               "global_clipnorm": null, "clipvalue": null, "use_ema": false,
               "ema_momentum": 0.99, "ema_overwrite_frequency": null,
               "loss_scale_factor": null, "gradient_accumulation_steps": null,
               "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}})");
  const auto k3 = optimizer_from_json(keras3, "compile.optimizer");
  CHECK(dynamic_cast<const Adam&>(*k3).config().learning_rate == 0.002f);

  const auto sgd = optimizer_from_json(
      {{"class_name", "SGD"},
       {"config", {{"learning_rate", 0.1}, {"momentum", 0.9}, {"nesterov", true}}}},
      "compile.optimizer");
  const auto& s = dynamic_cast<const SGD&>(*sgd);
  CHECK(s.config().learning_rate == 0.1f);
  CHECK(s.config().momentum == 0.9f);
  CHECK(s.config().nesterov);
  CHECK(dynamic_cast<const SGD&>(*optimizer_from_json("sgd", "o")).config().learning_rate == 0.01f);

  // Round trip through optimizer_to_json
  const json j = optimizer_to_json(t);
  const auto back = optimizer_from_json(j, "o");
  CHECK(back->get_config() == t.get_config());
}

TEST_CASE("optimizer_from_json errors name the path") {
  CHECK_THROWS_WITH_AS(optimizer_from_json("ftrl", "compile.optimizer"),
                       "compile.optimizer: unknown optimizer 'ftrl'; expected \"Adam\", "
                       "\"AdamW\", \"SGD\", \"RMSprop\", \"Nadam\", \"Adagrad\", "
                       "\"Adadelta\", \"Adamax\" or \"Lion\"",
                       Error);
  CHECK_THROWS_WITH_AS(
      optimizer_from_json({{"class_name", "Adam"}, {"config", {{"learning_rate", 0}}}},
                          "compile.optimizer"),
      doctest::Contains("compile.optimizer.config.learning_rate: expected a number in (0, "),
      Error);
  CHECK_THROWS_WITH_AS(
      optimizer_from_json({{"class_name", "Adam"}, {"config", {{"beta_2", 1.0}}}}, "o"),
      "o.config.beta_2: expected a number in [0, 1), got 1.0", Error);
  CHECK_THROWS_WITH_AS(
      optimizer_from_json({{"class_name", "SGD"}, {"config", {{"momentum", 1.2}}}}, "o"),
      "o.config.momentum: expected a number in [0, 1), got 1.2", Error);
  CHECK_THROWS_WITH_AS(
      optimizer_from_json({{"class_name", "Adam"}, {"config", {{"learning_rat", 0.1}}}}, "o"),
      doctest::Contains("o.config.learning_rat: unknown key"), Error);
  CHECK_THROWS_WITH_AS(
      optimizer_from_json(
          {{"class_name", "Adam"}, {"config", {{"gradient_accumulation_steps", 4}}}}, "o"),
      doctest::Contains(
          "o.config.gradient_accumulation_steps: expected null (not supported by normlab)"),
      Error);
  CHECK_THROWS_WITH_AS(
      optimizer_from_json(
          {{"class_name", "SGD"}, {"config", {{"clipnorm", 1.0}, {"clipvalue", 0.5}}}}, "o"),
      doctest::Contains("o.config.clipnorm: expected only one of clipnorm, global_clipnorm and "
                        "clipvalue to be set"),
      Error);
  CHECK_THROWS_WITH_AS(
      optimizer_from_json({{"class_name", "SGD"}, {"config", {{"clipvalue", -1.0}}}}, "o"),
      doctest::Contains("o.config.clipvalue: expected a number in (0, "), Error);
  CHECK_THROWS_WITH_AS(
      optimizer_from_json(
          {{"class_name", "AdamW"}, {"config", {{"exclude_from_weight_decay", {"gam(ma"}}}}}, "o"),
      doctest::Contains("o.config.exclude_from_weight_decay: expected regular expressions"), Error);
  CHECK_THROWS_WITH_AS(optimizer_from_json({{"config", json::object()}}, "o"),
                       doctest::Contains("o.class_name: expected the optimizer's class name"),
                       Error);
  CHECK_THROWS_WITH_AS(optimizer_from_json({{"class_name", "SGD"}, {"lr", 0.1}}, "o"),
                       doctest::Contains("o.lr: unknown key"), Error);
  CHECK_THROWS_WITH_AS(optimizer_from_json(3, "o"),
                       "o: expected an optimizer name or {\"class_name\": ..., \"config\": ...}, "
                       "got 3",
                       Error);
}
