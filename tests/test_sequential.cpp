// Sequential: summary counts, Keras names, trainable variables, frozen layers inside fit,
// train_on_batch, fit history, partial batches, reproducibility, class weights, learning on the
// Example 3 data, and the errors for data and models that do not fit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "data/generators.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "model/sequential.h"
#include "model_weights.h"
#include "optim/adam.h"
#include "optim/sgd.h"

using namespace normlab;
using normlab::testing::all_weights;

namespace {

// Example 3: Dense(64) -> BatchNormalization(momentum 0.95) -> ReLU -> Dense(1, sigmoid).
Sequential example3_model(std::uint64_t seed) {
  Sequential model(10, seed);
  model.add(Dense(64));
  model.add(BatchNormalization({.momentum = 0.95f}));
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  return model;
}

// A small regression model with a BN in the middle.
Sequential small_model(std::uint64_t seed, std::size_t input_dim = 3) {
  Sequential model(input_dim, seed);
  model.add(Dense(4));
  model.add(BatchNormalization({.momentum = 0.9f}));
  model.add(Dense(1));
  return model;
}

// Every variable of every layer, copied.
// Records every step fit reports.
struct StepRecorder final : Callback {
  std::vector<StepInfo> steps;
  void on_batch_end(Sequential&, const StepInfo& step) override { steps.push_back(step); }
};

Tensor gaussian_tensor(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  Rng rng(seed);
  Tensor t(rows, cols);
  for (float& v : t) v = static_cast<float>(rng.normal());
  return t;
}

}  // namespace

TEST_CASE("summary of the Example 3 model: 1025 params, 897 trainable, 128 non-trainable") {
  Sequential model = example3_model(0);
  // Dense 10*64 + 64 = 704; BN 4*64 = 256 (gamma, beta trainable; moving stats not);
  // Activation 0; Dense 64 + 1 = 65.
  CHECK(model.count_params(true) == 704 + 128 + 65);
  CHECK(model.count_params(false) == 128);
  const std::string s = model.summary();
  CHECK(s.find("Total params: 1025\n") != std::string::npos);
  CHECK(s.find("Trainable params: 897\n") != std::string::npos);
  CHECK(s.find("Non-trainable params: 128\n") != std::string::npos);
  CHECK(s.find("batch_normalization (BatchNormalization)") != std::string::npos);
  CHECK(s.find("(None, 64)") != std::string::npos);
  CHECK(model.layer_params(1, true) == 128);
  CHECK(model.layer_params(1, false) == 128);

  // A frozen layer's parameters count as non-trainable.
  model.get_layer("dense").set_trainable(false);
  CHECK(model.count_params(true) == 128 + 65);
  CHECK(model.count_params(false) == 128 + 704);
  CHECK(model.summary().find("Non-trainable params: 832\n") != std::string::npos);
  model.get_layer("batch_normalization").set_trainable(false);
  CHECK(model.count_params(true) == 65);
  CHECK(model.count_params(false) == 960);
}

TEST_CASE("Automatic Keras layer names; explicit names must be unique") {
  Sequential model = example3_model(0);
  CHECK(model.layer(0).name() == "dense");
  CHECK(model.layer(1).name() == "batch_normalization");
  CHECK(model.layer(2).name() == "activation");
  CHECK(model.layer(3).name() == "dense_1");
  model.add(Dense(2));
  CHECK(model.layer(4).name() == "dense_2");
  model.add(Dense({.units = 2, .name = "head"}));
  CHECK(&model.get_layer("head") == &model.layer(5));
  CHECK_THROWS_WITH_AS(model.add(Dense({.units = 2, .name = "head"})),
                       doctest::Contains("a layer named 'head' is already in the model"), Error);
  CHECK(model.output_dim() == 2);
  CHECK(model.num_layers() == 6);
}

TEST_CASE("trainable_variables: layer order, Keras order within a layer, frozen layers left out") {
  Sequential model = example3_model(0);
  const auto names = [&] {
    std::vector<std::string> out;
    for (const auto& v : model.trainable_variables()) out.push_back(v.name);
    return out;
  };
  CHECK(names() == std::vector<std::string>{"kernel", "bias", "gamma", "beta", "kernel", "bias"});
  const auto& vars = model.trainable_variables();
  CHECK(vars[0].value == &static_cast<Dense&>(model.layer(0)).kernel);
  CHECK(vars[4].value == &static_cast<Dense&>(model.layer(3)).kernel);
  CHECK(vars[2].value == &static_cast<BatchNormalization&>(model.layer(1)).gamma);
  model.layer(1).set_trainable(false);
  CHECK(names() == std::vector<std::string>{"kernel", "bias", "kernel", "bias"});
  CHECK(model.trainable_variables()[2].value == &static_cast<Dense&>(model.layer(3)).kernel);
  model.layer(1).set_trainable(true);
  CHECK(model.trainable_variables().size() == 6);
}

TEST_CASE("A frozen BatchNormalization runs in inference mode inside fit") {
  Sequential model = small_model(3);
  auto& bn = static_cast<BatchNormalization&>(model.layer(1));
  bn.moving_mean = Tensor{{0.1f, -0.2f, 0.3f, 0.0f}};
  bn.moving_variance = Tensor{{0.5f, 2.0f, 1.0f, 1.5f}};
  bn.gamma = Tensor{{1.5f, 0.5f, 1.0f, 2.0f}};
  bn.set_trainable(false);
  const Tensor mean0 = bn.moving_mean, var0 = bn.moving_variance, gamma0 = bn.gamma,
               beta0 = bn.beta;
  const Tensor kernel0 = static_cast<Dense&>(model.layer(0)).kernel;
  model.compile(Adam({.learning_rate = 0.01f}), "mse");
  const Tensor x = gaussian_tensor(40, 3, 2), y = gaussian_tensor(40, 1, 3);
  model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  CHECK(bn.moving_mean == mean0);
  CHECK(bn.moving_variance == var0);
  CHECK(bn.gamma == gamma0);
  CHECK(bn.beta == beta0);
  CHECK_FALSE(static_cast<Dense&>(model.layer(0)).kernel == kernel0);  // the rest trains
  // Training-mode output equals inference-mode output: the same statistics are used.
  const Tensor train = model.forward(x, Mode::Train);
  CHECK(model.predict(x, 40) == train);
}

TEST_CASE("A trainable BatchNormalization updates its moving statistics in fit, not in evaluate") {
  Sequential model = small_model(4);
  auto& bn = static_cast<BatchNormalization&>(model.layer(1));
  model.compile(SGD({.learning_rate = 0.01f}), "mse");
  const Tensor x = gaussian_tensor(30, 3, 5), y = gaussian_tensor(30, 1, 6);
  model.fit(x, y, {.batch_size = 10, .epochs = 1, .verbose = 0});
  CHECK_FALSE(bn.moving_variance == Tensor(1, 4, 1.0f));
  const Tensor mean = bn.moving_mean, var = bn.moving_variance;
  model.evaluate(x, y);
  model.predict(x);
  CHECK(bn.moving_mean == mean);
  CHECK(bn.moving_variance == var);
}

TEST_CASE("train_on_batch returns the training-forward loss with the weights before the step") {
  const Tensor x = gaussian_tensor(16, 3, 7), y = gaussian_tensor(16, 1, 8);
  Sequential a = small_model(11), b = small_model(11);
  a.compile(Adam({.learning_rate = 0.05f}), "mse");
  // The expected value, by hand on the twin: training forward, then the loss.
  auto mse = make_loss("mse");
  const float expected = mse->forward(b.forward(x, Mode::Train), y);
  const float first = a.train_on_batch(x, y);
  CHECK(first == doctest::Approx(expected).epsilon(1e-6));
  const float second = a.train_on_batch(x, y);
  CHECK(second < first);  // the step moved the weights downhill
  CHECK(a.optimizer().iterations() == 2);
}

TEST_CASE("fit history: one entry per epoch; the loss is the row-weighted mean of batch losses") {
  Sequential model = small_model(2);
  model.compile(SGD({.learning_rate = 0.05f}), "mse");
  const Tensor x = gaussian_tensor(10, 3, 1), y = gaussian_tensor(10, 1, 2);
  StepRecorder recorder;
  const History h = model.fit(
      x, y,
      {.batch_size = 4, .epochs = 3, .shuffle = false, .verbose = 0, .callbacks = {&recorder}});
  CHECK(h.epochs() == 3);
  CHECK(h.keys == std::vector<std::string>{"loss"});
  CHECK(h["loss"].size() == 3);
  CHECK_THROWS_WITH_AS(h["val_loss"], doctest::Contains("History has no key 'val_loss'"), Error);
  // ceil(10 / 4) = 3 steps per epoch, the last of 2 rows: the partial batch is used.
  REQUIRE(recorder.steps.size() == 9);
  CHECK(model.optimizer().iterations() == 9);
  for (int e = 0; e < 3; ++e) {
    CHECK(recorder.steps[3 * e + 2].rows == 2);
    double weighted = 0.0;
    for (int b = 0; b < 3; ++b)
      weighted += recorder.steps[3 * e + b].batch_loss * recorder.steps[3 * e + b].rows;
    CHECK(h["loss"][e] == doctest::Approx(weighted / 10.0).epsilon(1e-6));
  }
}

TEST_CASE("The last partial batch changes the weights") {
  const Tensor x = gaussian_tensor(10, 3, 1);
  Tensor y = gaussian_tensor(10, 1, 2), y_changed = y;
  y_changed(9, 0) += 5.0f;  // row 9 lies only in the batch [8, 10)
  Sequential a = small_model(5), b = small_model(5);
  a.compile(SGD({.learning_rate = 0.05f}), "mse");
  b.compile(SGD({.learning_rate = 0.05f}), "mse");
  a.fit(x, y, {.batch_size = 4, .epochs = 1, .shuffle = false, .verbose = 0});
  b.fit(x, y_changed, {.batch_size = 4, .epochs = 1, .shuffle = false, .verbose = 0});
  CHECK_FALSE(all_weights(a)[0] == all_weights(b)[0]);
}

TEST_CASE("fit with validation_split or validation_data reports val_ entries each epoch") {
  const Tensor x = gaussian_tensor(50, 3, 1);
  Tensor y(50, 1);
  for (std::size_t i = 0; i < 50; ++i) y(i, 0) = x(i, 0) + x(i, 1) > 0.0f ? 1.0f : 0.0f;
  Sequential model(3, 1);
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  const History split =
      model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0, .validation_split = 0.2});
  CHECK(split.keys == std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy"});
  CHECK(split["val_loss"].size() == 2);
  // The validation rows are the last 10; val_loss is evaluate() on them after the epoch.
  Tensor xv(10, 3), yv(10, 1);
  std::copy(x.row(40), x.row(40) + 30, xv.data());
  std::copy(y.row(40), y.row(40) + 10, yv.data());
  CHECK(split["val_loss"][1] == doctest::Approx(log_value(model.evaluate(xv, yv), "loss")));

  const History data = model.fit(
      x, y, {.batch_size = 8, .epochs = 3, .verbose = 0, .validation_data = Dataset{xv, yv, {}}});
  CHECK(data["val_accuracy"].size() == 3);
  CHECK_THROWS_WITH_AS(
      model.fit(x, y,
                {.verbose = 0, .validation_data = Dataset{xv, yv, {}}, .validation_split = 0.2}),
      doctest::Contains("give validation_data or validation_split, not both"), Error);
}

TEST_CASE("The same seeds give bit-identical weights after fit on one thread") {
  const int threads = num_threads();
  set_num_threads(1);
  const Dataset data = make_regression(100, 4, 10, 8);
  auto train = [&](std::uint64_t model_seed, std::uint64_t shuffle_seed) {
    Sequential model(10, model_seed);
    model.add(Dense(16));
    model.add(BatchNormalization());
    model.add(Activation("relu"));
    model.add(Dense(8));
    model.compile(Adam(), "mse");
    model.fit(data, {.batch_size = 16, .epochs = 2, .seed = shuffle_seed, .verbose = 0});
    return all_weights(model);
  };
  const auto first = train(5, 9);
  CHECK(train(5, 9) == first);
  CHECK_FALSE(train(5, 10) == first);  // another shuffle
  CHECK_FALSE(train(6, 9) == first);   // other initial weights
  set_num_threads(threads);
}

TEST_CASE("class_weight scales each row's loss: sum_i w_i l_i / N, as Keras") {
  const Tensor x = gaussian_tensor(6, 3, 4);
  const Tensor y{{0}, {1}, {0}, {1}, {1}, {0}};
  // The batch loss with the weights before the step, from an identical model's predictions
  // (no BN: inference and training forwards agree).
  Sequential twin(3, 2);
  twin.add(Dense(1, "sigmoid"));
  const Tensor p = twin.predict(x);
  double weighted = 0.0, plain = 0.0;
  for (std::size_t i = 0; i < 6; ++i) {
    const double l = y(i, 0) == 1.0f ? -std::log(p(i, 0)) : -std::log(1.0 - p(i, 0));
    weighted += (y(i, 0) == 1.0f ? 3.0 : 1.0) * l / 6.0;
    plain += l / 6.0;
  }
  auto fit_loss = [&](std::vector<std::pair<std::size_t, float>> class_weight) {
    Sequential model(3, 2);
    model.add(Dense(1, "sigmoid"));
    model.compile(SGD(), "binary_crossentropy");
    const History h = model.fit(x, y,
                                {.batch_size = 6,
                                 .epochs = 1,
                                 .shuffle = false,
                                 .verbose = 0,
                                 .class_weight = class_weight});
    return h["loss"][0];
  };
  CHECK(fit_loss({{0, 1.0f}, {1, 3.0f}}) == doctest::Approx(weighted).epsilon(1e-5));
  CHECK(fit_loss({}) == doctest::Approx(plain).epsilon(1e-5));
  CHECK_THROWS_WITH_AS(fit_loss({{0, 1.0f}}),
                       doctest::Contains("class_weight has no entry for class 1 (row 1)"), Error);
}

TEST_CASE("Example 3: the imbalanced data is learned, the minority class included") {
  const Dataset data = make_imbalanced(42);
  Sequential model = example3_model(42);
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  const History h = model.fit(data, {.batch_size = 32, .epochs = 10, .seed = 1, .verbose = 0});
  CHECK(h["loss"].back() < h["loss"].front());
  const Logs logs = model.evaluate(data.x, data.y);
  const float accuracy = log_value(logs, "accuracy");
  const Tensor p = model.predict(data.x);
  std::size_t found = 0;
  for (std::size_t i = 1000; i < 1100; ++i) found += p(i, 0) > 0.5f;
  const double recall = static_cast<double>(found) / 100.0;
  MESSAGE("Example 3 after 10 epochs: accuracy " << accuracy << ", minority recall " << recall
                                                 << ", loss " << log_value(logs, "loss"));
  CHECK(accuracy >= 0.97f);
  CHECK(recall >= 0.5);
}

TEST_CASE("Data that does not fit the model is an error naming both shapes") {
  Sequential model = example3_model(0);
  const Tensor x = gaussian_tensor(8, 10, 1), y(8, 1), narrow(8, 3);
  CHECK_THROWS_WITH_AS(model.fit(x, y, {.verbose = 0}),
                       doctest::Contains("Sequential::fit: the model is not compiled; call "
                                         "compile(optimizer, loss) first"),
                       Error);
  CHECK_THROWS_WITH_AS(model.evaluate(x, y), doctest::Contains("not compiled"), Error);
  CHECK_THROWS_WITH_AS(model.train_on_batch(x, y), doctest::Contains("not compiled"), Error);
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});

  CHECK_THROWS_WITH_AS(model.predict(narrow),
                       doctest::Contains("predict input: 3 feature columns, but the model expects "
                                         "inputs of width 10"),
                       Error);
  CHECK_THROWS_WITH_AS(model.fit(narrow, y, {.verbose = 0}),
                       doctest::Contains("training data: 3 feature columns, but the model "
                                         "expects inputs of width 10"),
                       Error);
  CHECK_THROWS_WITH_AS(model.evaluate(narrow, y),
                       doctest::Contains("evaluation data: 3 feature columns"), Error);
  CHECK_THROWS_WITH_AS(model.forward(narrow, Mode::Train),
                       doctest::Contains("expected input of shape (N, 10) with N >= 1, got (8, 3)"),
                       Error);
  CHECK_THROWS_WITH_AS(model.train_on_batch(narrow, y),
                       doctest::Contains("expected input of shape (N, 10) with N >= 1, got (8, 3)"),
                       Error);

  const Tensor two_columns(8, 2);
  CHECK_THROWS_WITH_AS(model.fit(x, two_columns, {.verbose = 0}),
                       doctest::Contains("binary_crossentropy: targets of shape (8, 2) do not fit "
                                         "1 model outputs"),
                       Error);
  CHECK_THROWS_WITH_AS(model.evaluate(x, two_columns), doctest::Contains("do not fit"), Error);
  CHECK_THROWS_WITH_AS(model.train_on_batch(x, two_columns),
                       doctest::Contains("targets of shape (8, 2) do not fit 1 model outputs"),
                       Error);

  const Tensor short_y(7, 1);
  CHECK_THROWS_WITH_AS(model.fit(x, short_y, {.verbose = 0}),
                       doctest::Contains("training data: x has 8 rows (8, 10) but y has 7 (7, 1)"),
                       Error);
  CHECK_THROWS_WITH_AS(model.evaluate(x, short_y),
                       doctest::Contains("evaluation data: 8 input rows but 7 target rows"), Error);
  CHECK_THROWS_WITH_AS(model.train_on_batch(x, short_y),
                       doctest::Contains("train_on_batch: 8 input rows but 7 target rows"), Error);

  Tensor label_two = y;
  label_two(3, 0) = 2.0f;
  CHECK_THROWS_WITH_AS(model.fit(x, label_two, {.verbose = 0}),
                       doctest::Contains("binary_crossentropy: target at row 3, column 0 is "
                                         "2; expected a value in [0, 1]"),
                       Error);
  CHECK_THROWS_WITH_AS(model.train_on_batch(x, label_two),
                       doctest::Contains("expected a value in [0, 1]"), Error);
}

TEST_CASE("Sparse labels must name one of the K outputs") {
  Sequential model(4, 0);
  model.add(Dense(3, "softmax"));
  model.compile(Adam(), "sparse_categorical_crossentropy", {"accuracy"});
  const Tensor x = gaussian_tensor(4, 4, 2);
  const Tensor good{{0}, {1}, {2}, {1}}, bad{{0}, {1}, {3}, {1}};
  CHECK_NOTHROW(model.fit(x, good, {.verbose = 0}));
  CHECK_THROWS_WITH_AS(model.fit(x, bad, {.verbose = 0}),
                       doctest::Contains("sparse_categorical_crossentropy: target at row 2, column "
                                         "0 is 3; expected an integer class index in [0, 2]"),
                       Error);
  CHECK_THROWS_WITH_AS(model.train_on_batch(x, bad),
                       doctest::Contains("expected an integer class index in [0, 2]"), Error);
  CHECK_THROWS_WITH_AS(model.evaluate(x, Tensor(4, 3)),
                       doctest::Contains("expected one class index per row"), Error);
}

TEST_CASE("Model-level errors: no input width, missing layer, early backward, bad options") {
  CHECK_THROWS_WITH_AS(Sequential().add(Dense(2)),
                       doctest::Contains("the model has no input width"), Error);
  Sequential model = example3_model(0);
  CHECK_THROWS_WITH_AS(model.get_layer("dense_9"),
                       doctest::Contains("no layer named 'dense_9'; the layers are: dense, "
                                         "batch_normalization, activation, dense_1"),
                       Error);
  CHECK_THROWS_WITH_AS(model.backward(Tensor(4, 1)),
                       doctest::Contains("layer 'dense_1' (Dense): backward() called without a "
                                         "training-mode forward()"),
                       Error);
  model.forward(gaussian_tensor(4, 10, 1), Mode::Infer);
  CHECK_THROWS_WITH_AS(model.backward(Tensor(4, 1)),
                       doctest::Contains("without a training-mode forward"), Error);
  CHECK_THROWS_WITH_AS(model.optimizer(), doctest::Contains("not compiled"), Error);
  CHECK_THROWS_WITH_AS(Sequential(3).forward(Tensor(1, 3), Mode::Infer),
                       doctest::Contains("the model has no layers"), Error);
  model.compile(Adam(), "binary_crossentropy");
  const Tensor x = gaussian_tensor(4, 10, 1), y(4, 1);
  CHECK_THROWS_WITH_AS(model.fit(x, y, {.batch_size = 0, .verbose = 0}),
                       doctest::Contains("batch_size must be positive, got 0"), Error);
  CHECK_THROWS_WITH_AS(model.predict(x, 0), doctest::Contains("batch_size must be positive"),
                       Error);
  CHECK_THROWS_WITH_AS(model.compile(Adam(), "hinge"), doctest::Contains("unknown loss 'hinge'"),
                       Error);
  CHECK_THROWS_WITH_AS(model.compile(Adam(), "mse", {"auc"}),
                       doctest::Contains("unknown metric 'auc'"), Error);
}
