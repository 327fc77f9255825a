// EarlyStopping and ReduceLROnPlateau decide as Keras 3's do (keras/src/callbacks/
// early_stopping.py, reduce_lr_on_plateau.py): each case feeds a sequence of epoch logs and
// checks the epoch each one acts at, worked out by hand from Keras' code (comments give the
// wait counter epoch by epoch); then through fit and a config.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "io/train_config.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "model/early_stopping.h"
#include "model/reduce_lr_on_plateau.h"
#include "optim/registry.h"
#include "optim/sgd.h"

using namespace normlab;

namespace {

Sequential tiny_model() {
  Sequential model(2, 5);
  model.add(Dense(3));
  model.add(BatchNormalization());
  model.add(Dense(1));
  model.compile(std::make_unique<SGD>(SgdConfig{.learning_rate = 0.1f}), make_loss("mse"));
  return model;
}

// Feeds val_loss values epoch by epoch until the callback stops training; returns the epoch it
// stopped after, or -1.
int stop_epoch(EarlyStopping& es, Sequential& model, const std::vector<float>& values) {
  model.stop_training = false;
  es.on_train_begin(model, static_cast<int>(values.size()));
  for (std::size_t e = 0; e < values.size(); ++e) {
    es.on_epoch_end(model, static_cast<int>(e), {{"loss", 1.0f}, {"val_loss", values[e]}});
    if (model.stop_training) return static_cast<int>(e);
  }
  return -1;
}

}  // namespace

TEST_CASE("EarlyStopping counts patience as Keras does") {
  Sequential model = tiny_model();
  SUBCASE("patience 0 stops at the first epoch without improvement, but never at epoch 0") {
    EarlyStopping es({.patience = 0});
    CHECK(stop_epoch(es, model, {1.0f, 0.9f, 0.95f, 0.5f}) == 2);
  }
  SUBCASE("patience 2: wait 0, 1, 2 -> stop at the second epoch without improvement") {
    EarlyStopping es({.patience = 2});
    // e0 best 1.0 (wait 0); e1 0.8 best (0); e2 0.85 (1); e3 0.81 (2) -> stop after e3
    CHECK(stop_epoch(es, model, {1.0f, 0.8f, 0.85f, 0.81f, 0.1f}) == 3);
    CHECK(es.best_epoch() == 1);
    CHECK(es.best() == doctest::Approx(0.8));
  }
  SUBCASE("min_delta: an improvement smaller than it does not count") {
    EarlyStopping es({.min_delta = 0.1, .patience = 1});
    // e1 0.95 improves by 0.05 < 0.1: wait 1 >= 1 -> stop after e1
    CHECK(stop_epoch(es, model, {1.0f, 0.95f, 0.5f}) == 1);
  }
  SUBCASE("a baseline: improvements that do not beat it keep the wait growing") {
    EarlyStopping es({.patience = 2, .baseline = 0.5});
    // e0..e2 improve but stay above 0.5, so the wait is not reset: 1, 2, 3 (an improving
    // epoch returns before the patience test); e3 does not improve: wait 4 >= 2 -> stop
    CHECK(stop_epoch(es, model, {1.0f, 0.9f, 0.85f, 0.9f}) == 3);
  }
  SUBCASE("start_from_epoch: the warm-up epochs are not watched") {
    EarlyStopping es({.patience = 0, .start_from_epoch = 2});
    // e0, e1 ignored (even though e1 is worse); e2 first best; e3 worse -> stop
    CHECK(stop_epoch(es, model, {0.1f, 0.9f, 0.5f, 0.6f}) == 3);
  }
  SUBCASE("mode max on an accuracy") {
    EarlyStopping es({.monitor = "val_accuracy", .patience = 1});
    model.stop_training = false;
    es.on_train_begin(model, 3);
    es.on_epoch_end(model, 0, {{"val_accuracy", 0.5f}});
    es.on_epoch_end(model, 1, {{"val_accuracy", 0.7f}});
    CHECK(!model.stop_training);
    es.on_epoch_end(model, 2, {{"val_accuracy", 0.6f}});
    CHECK(model.stop_training);
  }
}

TEST_CASE("EarlyStopping restores every variable of the best epoch, moving statistics too") {
  Sequential model = tiny_model();
  EarlyStopping es({.patience = 5, .restore_best_weights = true});
  es.on_train_begin(model, 3);
  auto& bn = model.get_layer<BatchNormalization>(model.layer(1).name());
  auto& dense = model.get_layer<Dense>(model.layer(0).name());
  bn.moving_mean[0] = 0.25f;
  dense.kernel(0, 0) = 1.5f;
  es.on_epoch_end(model, 0, {{"val_loss", 1.0f}});
  es.on_epoch_end(model, 1, {{"val_loss", 0.5f}});  // the best: keep these
  bn.moving_mean[0] = 7.0f;
  dense.kernel(0, 0) = -3.0f;
  es.on_epoch_end(model, 2, {{"val_loss", 0.75f}});
  es.on_train_end(model);
  CHECK(bn.moving_mean[0] == 0.25f);
  CHECK(dense.kernel(0, 0) == 1.5f);
}

TEST_CASE("EarlyStopping errors name what is wrong") {
  Sequential model = tiny_model();
  EarlyStopping es({});
  es.on_train_begin(model, 1);
  CHECK_THROWS_WITH_AS(es.on_epoch_end(model, 0, {{"loss", 1.0f}}),
                       "EarlyStopping: monitor 'val_loss' is not in the epoch's logs (loss); give "
                       "fit validation data, or monitor another",
                       Error);
  CHECK_THROWS_WITH_AS(EarlyStopping({.monitor = "val_auc"}),
                       doctest::Contains("cannot tell whether 'val_auc' should be minimized"),
                       Error);
  CHECK_NOTHROW(EarlyStopping({.monitor = "val_auc", .mode = "max"}));
}

TEST_CASE("ReduceLROnPlateau lowers the learning rate after patience, then cools down") {
  Sequential model = tiny_model();
  ReduceLROnPlateau r(
      {.factor = 0.5, .patience = 2, .min_delta = 0.0, .cooldown = 1, .min_lr = 0.02});
  r.on_train_begin(model, 10);
  std::vector<float> lr;
  // e0 best; e1 wait 1; e2 wait 2 -> 0.1 * 0.5 = 0.05, cooldown 1
  // e3: the cooldown ends (counter 0, wait 0), then no improvement out of cooldown: wait 1
  // e4: wait 2 -> 0.025, cooldown 1; e5: wait 1; e6: wait 2 -> max(0.0125, 0.02) = 0.02
  // e7: wait 1; e8, e9: wait 2, 3, but lr is no longer above min_lr
  for (int e = 0; e < 10; ++e) {
    r.on_epoch_end(model, e, {{"val_loss", e == 0 ? 1.0f : 2.0f}});
    lr.push_back(model.optimizer().learning_rate());
  }
  const std::vector<float> expected = {0.1f,   0.1f,  0.05f, 0.05f, 0.025f,
                                       0.025f, 0.02f, 0.02f, 0.02f, 0.02f};
  for (std::size_t e = 0; e < lr.size(); ++e) {
    CAPTURE(e);
    CHECK(lr[e] == doctest::Approx(expected[e]));
  }
  // The reduced rate is what the optimizer saves.
  CHECK(model.optimizer().get_config()["learning_rate"] == doctest::Approx(0.02));
}

TEST_CASE("ReduceLROnPlateau refuses a schedule; mode auto maximizes accuracies") {
  Sequential model(2, 5);
  model.add(Dense(1));
  const nlohmann::json schedule = {
      {"class_name", "ExponentialDecay"},
      {"config", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}, {"decay_rate", 0.5}}}};
  model.compile(
      optimizer_from_json({{"class_name", "SGD"}, {"config", {{"learning_rate", schedule}}}}, "o"),
      make_loss("mse"));
  ReduceLROnPlateau r({.monitor = "val_accuracy", .patience = 1});
  CHECK_THROWS_WITH_AS(r.on_train_begin(model, 3), doctest::Contains("is a schedule"), Error);

  Sequential plain = tiny_model();
  ReduceLROnPlateau acc({.monitor = "val_accuracy", .factor = 0.5, .patience = 1});
  acc.on_train_begin(plain, 3);
  acc.on_epoch_end(plain, 0, {{"val_accuracy", 0.5f}});
  acc.on_epoch_end(plain, 1, {{"val_accuracy", 0.6f}});  // higher: an improvement
  CHECK(plain.optimizer().learning_rate() == doctest::Approx(0.1));
  acc.on_epoch_end(plain, 2, {{"val_accuracy", 0.55f}});
  CHECK(plain.optimizer().learning_rate() == doctest::Approx(0.05));
}

TEST_CASE("EarlyStopping in a config stops fit and restores the best epoch") {
  const nlohmann::json config = nlohmann::json::parse(R"({
    "model": {"input_dim": 10, "layers": [
      {"class_name": "Dense", "config": {"units": 6}},
      {"class_name": "BatchNormalization", "config": {}},
      {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}]},
    "compile": {"optimizer": {"class_name": "SGD", "config": {"learning_rate": 3.0}},
                "loss": "binary_crossentropy"},
    "data": {"train": {"generator": "imbalanced", "seed": 3}},
    "fit": {"batch_size": 64, "epochs": 30, "verbose": 0, "callbacks": [
      {"class_name": "EarlyStopping",
       "config": {"monitor": "loss", "patience": 2, "min_delta": 0.01,
                  "restore_best_weights": true}},
      {"class_name": "ReduceLROnPlateau", "config": {"monitor": "loss", "patience": 1}}]}})");
  TrainConfig cfg = train_config_from_json(config, "", "test");
  const History h = cfg.model.fit(cfg.train, cfg.fit_options());
  const auto& loss = h["loss"];
  // It stopped once the loss had not improved by 0.01 for two epochs: the last two epochs are
  // no better than that against the best before them.
  REQUIRE(loss.size() < 30);
  const float before = *std::min_element(loss.begin(), loss.end() - 2);
  CHECK(*std::min_element(loss.end() - 2, loss.end()) >= before - 0.01f);

  nlohmann::json bad = config;
  bad["fit"]["callbacks"][0]["config"]["mode"] = "up";
  CHECK_THROWS_WITH_AS(train_config_from_json(bad, "", "test"),
                       doctest::Contains("fit.callbacks[0].config.mode"), Error);
  bad = config;
  bad["fit"]["callbacks"][1]["config"]["factor"] = 1.5;
  CHECK_THROWS_WITH_AS(train_config_from_json(bad, "", "test"),
                       doctest::Contains("fit.callbacks[1].config.factor"), Error);
}
