// Training configs (io/train_config.h): every error class with its message (the JSON path,
// what was found, what was expected), the Keras forms each section accepts, relative paths,
// overrides, the shipped configs, and resuming from initial_weights.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "data/csv.h"
#include "error_of.h"
#include "io/model_file.h"
#include "io/train_config.h"
#include "layers/batch_normalization.h"
#include "model/csv_logger.h"
#include "optim/registry.h"
#include "temp_dir.h"

using namespace normlab;
using nlohmann::json;
namespace fs = std::filesystem;

using normlab::testing::TempDir;

namespace {

// The Example-3 classifier on generated data, small enough to train in milliseconds.
json base_config() {
  return json::parse(R"({
    "model": {"input_dim": 10, "layers": [
      {"class_name": "Dense", "config": {"units": 8}},
      {"class_name": "Activation", "config": {"activation": "linear"}},
      {"class_name": "BatchNormalization", "config": {"momentum": 0.95}},
      {"class_name": "Activation", "config": {"activation": "relu"}},
      {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}]},
    "compile": {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]},
    "data": {"train": {"generator": "imbalanced", "seed": 1}},
    "fit": {"batch_size": 64, "epochs": 1, "seed": 3, "verbose": 0}})");
}

TrainConfig parse(const json& config, const fs::path& base_dir = ".") {
  return train_config_from_json(config, base_dir, "test.json");
}

// The message parse(config) throws.
std::string error_of(const json& config, const fs::path& base_dir = ".") {
  return testing::error_of([&] { parse(config, base_dir); });
}

// base_config() with `patch` applied (RFC 7396 merge patch: null removes a key).
json patched(const std::string& patch) {
  json config = base_config();
  config.merge_patch(json::parse(patch));
  return config;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

bool same_variables(Sequential& a, Sequential& b) {
  if (a.num_layers() != b.num_layers()) return false;
  for (std::size_t i = 0; i < a.num_layers(); ++i) {
    const auto &va = a.layer_variables(i), &vb = b.layer_variables(i);
    if (va.size() != vb.size()) return false;
    for (std::size_t k = 0; k < va.size(); ++k)
      if (!(*va[k].value == *vb[k].value)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("train config: the base config builds a compiled model, data and fit options") {
  TrainConfig cfg = parse(base_config());
  CHECK(cfg.source == "test.json");
  CHECK(cfg.model.compiled());
  CHECK(cfg.model.num_layers() == 5);
  CHECK(cfg.model.loss().name() == "binary_crossentropy");
  REQUIRE(cfg.model.metrics().size() == 1);
  CHECK(cfg.model.metrics()[0].name() == "accuracy");
  CHECK(cfg.train.size() == 1100);
  CHECK_FALSE(cfg.validation.has_value());
  CHECK(cfg.feature_columns ==
        std::vector<std::string>{"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"});
  CHECK(cfg.label_columns == std::vector<std::string>{"y"});
  CHECK(cfg.fit.batch_size == 64);
  CHECK(cfg.fit.epochs == 1);
  CHECK(cfg.fit.seed == 3);
  CHECK(cfg.fit.verbose == 0);
  CHECK(cfg.fit.shuffle);
  CHECK(cfg.fit.steps_per_epoch == 0);
}

TEST_CASE("train config: Keras defaults for an empty fit section") {
  TrainConfig cfg = parse(patched(R"({"fit": null})"));
  CHECK(cfg.fit.batch_size == 32);
  CHECK(cfg.fit.epochs == 1);
  CHECK(cfg.fit.shuffle);
  CHECK(cfg.fit.verbose == 1);
  CHECK(cfg.fit.seed == 0);
}

TEST_CASE("train config errors: the file itself") {
  CHECK_THROWS_WITH_AS(parse_train_config("{\"model\": 1,}", ".", "cfg.json"),
                       doctest::Contains("cfg.json: not valid JSON: parse error at line 1"), Error);
  CHECK_THROWS_WITH_AS(
      parse_train_config("{\n  // a comment\n}", ".", "cfg.json"),
      doctest::Contains("(JSON has no comments: put notes in a \"description\" key)"), Error);
  CHECK(error_of(json::array({1, 2})) ==
        "expected a JSON object {\"model\": ..., \"compile\": ..., \"data\": ..., \"fit\": ...}, "
        "got array [1,2]");
  CHECK_THROWS_WITH_AS(load_train_config("/nonexistent/normlab/cfg.json"),
                       "/nonexistent/normlab/cfg.json: cannot read the config file (No such file "
                       "or directory)",
                       Error);
  CHECK_THROWS_WITH_AS(load_train_config(fs::temp_directory_path()),
                       doctest::Contains(": is a folder; expected a JSON config file"), Error);
}

TEST_CASE("train config errors: unknown keys name the path and list the known ones") {
  CHECK(error_of(patched(R"({"modle": {}})")) ==
        "modle: unknown key; the known keys here are: compile, data, description, fit, "
        "initial_weights, model");
  CHECK(error_of(patched(R"({"fit": {"epoch": 3}})")) ==
        "fit.epoch: unknown key; the known keys here are: batch_size, callbacks, class_weight, "
        "description, epochs, seed, shuffle, steps_per_epoch, verbose");
  CHECK(error_of(patched(R"({"data": {"train": {"generator": "imbalanced", "rows": 5}}})")) ==
        "data.train.rows: unknown key; the known keys here are: description, generator, seed");
  CHECK(error_of(patched(R"({"compile": {"loss_weight": 1}})")) ==
        "compile.loss_weight: unknown key; the known keys here are: auto_scale_loss, epsilon, "
        "jit_compile, "
        "loss, loss_weights, metrics, optimizer, run_eagerly, steps_per_execution, "
        "weighted_metrics");
}

TEST_CASE("train config errors: missing sections") {
  CHECK(error_of(patched(R"({"model": null})")) ==
        "model: expected {\"input_dim\": ..., \"layers\": [...]}, a Keras model topology or the "
        "path of a saved model, got nothing");
  CHECK(error_of(patched(R"({"compile": null})")) ==
        "compile: expected {\"optimizer\": ..., \"loss\": ..., \"metrics\": [...]}, got nothing");
  CHECK(error_of(patched(R"({"data": null})")) ==
        "data: expected {\"train\": {\"csv\": ..., \"label_columns\": [...]} or {\"generator\": "
        "...}}, got nothing");
  CHECK(error_of(patched(R"({"compile": {"loss": null}})")) ==
        "compile.loss: expected a loss such as \"binary_crossentropy\" or \"mse\", got nothing");
  CHECK(error_of(patched(R"({"compile": {"optimizer": null}})")) ==
        "compile.optimizer: expected an optimizer: \"adam\", \"sgd\" or {\"class_name\": "
        "\"Adam\", ...}, got nothing");
}

TEST_CASE("train config errors: wrong types and out-of-range values name the JSON path") {
  json config = base_config();
  config["model"]["layers"][2]["config"]["momentum"] = 1.5;
  CHECK(error_of(config) ==
        "model.layers[2].config.momentum: expected a number in [0, 1), got 1.5");
  CHECK(error_of(patched(R"({"fit": {"epochs": "ten"}})")) ==
        "fit.epochs: expected an integer in [0, 1073741824], got \"ten\"");
  CHECK(error_of(patched(R"({"fit": {"batch_size": 0}})")) ==
        "fit.batch_size: expected an integer in [1, 1073741824], got 0");
  CHECK(error_of(patched(R"({"fit": {"shuffle": 1}})")) ==
        "fit.shuffle: expected true or false, got 1");
  CHECK(error_of(patched(R"({"fit": {"verbose": "loud"}})")) ==
        "fit.verbose: expected 0, 1, 2 or \"auto\", got \"loud\"");
  CHECK(error_of(patched(R"({"fit": {"seed": -1}})")) ==
        "fit.seed: expected an integer in [0, 9223372036854775807], got -1");
  CHECK(error_of(patched(R"({"fit": {"class_weight": {"one": 2}}})")) ==
        "fit.class_weight.one: expected a class index (0, 1, ...) as the key, got \"one\"");
  CHECK(error_of(patched(R"({"fit": {"class_weight": {"1": -2}}})")) ==
        "fit.class_weight.1: expected a weight >= 0, got -2");
  CHECK(error_of(patched(R"({"description": 3})")) == "description: expected a string, got 3");
  CHECK(error_of(patched(R"({"initial_weights": 3})")) ==
        "initial_weights: expected the path of a saved model directory, got 3");
}

TEST_CASE("train config errors: compile section") {
  CHECK(error_of(patched(R"({"compile": {"optimizer": "ftrl"}})")) ==
        "compile.optimizer: unknown optimizer 'ftrl'; expected \"Adam\", \"AdamW\", \"SGD\", "
        "\"RMSprop\", \"Nadam\", \"Adagrad\", \"Adadelta\", \"Adamax\" or \"Lion\"");
  CHECK(error_of(patched(R"({"compile": {"optimizer": {"class_name": "Adam", "config":
                                         {"learning_rate": -1}}}})")) ==
        "compile.optimizer.config.learning_rate: expected a number in (0, 1e+09], got -1");
  CHECK(error_of(patched(R"({"compile": {"loss": "hinge"}})")) ==
        "compile.loss: expected one of \"binary_crossentropy\", \"categorical_crossentropy\", "
        "\"mean_squared_error\", \"mse\", \"sparse_categorical_crossentropy\", got \"hinge\"");
  CHECK(error_of(patched(R"({"compile": {"loss": {"class_name": "Hinge"}}})")) ==
        "compile.loss.class_name: expected one of \"BinaryCrossentropy\", "
        "\"CategoricalCrossentropy\", \"MeanSquaredError\", \"SparseCategoricalCrossentropy\", got "
        "\"Hinge\"");
  CHECK(error_of(patched(R"({"compile": {"loss": {"class_name": "BinaryCrossentropy",
                                         "config": {"label_smoothing": 0.1}}}})")) ==
        "compile.loss.config.label_smoothing: expected 0 (label smoothing is not supported by "
        "normlab), got 0.1");
  CHECK(error_of(patched(R"({"compile": {"loss": {"class_name": "MeanSquaredError",
                                         "config": {"from_logits": true}}}})")) ==
        "compile.loss.config.from_logits: unknown key; the known keys here are: dtype, fn, name, "
        "reduction");
  CHECK(error_of(patched(R"({"compile": {"metrics": ["accuracy", "auc"]}})")) ==
        "compile.metrics[1]: unknown metric 'auc': expected one of accuracy, binary_accuracy, "
        "categorical_accuracy, sparse_categorical_accuracy (the loss is always reported)");
  CHECK(error_of(patched(R"({"compile": {"metrics": "accuracy"}})")) ==
        "compile.metrics: expected a list of metric names, such as [\"accuracy\"], got "
        "\"accuracy\"");
  CHECK(error_of(patched(R"({"compile": {"loss_weights": [1.0]}})")) ==
        "compile.loss_weights: expected null (not supported by normlab), got array [1.0]");
}

TEST_CASE("train config: Keras' serialized loss objects and compile-config keys") {
  // Keras 3's model.get_compile_config(), as it writes it.
  TrainConfig cfg = parse(patched(R"({"compile": {
      "optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                    "config": {"name": "adam", "learning_rate": 0.01}, "registered_name": null},
      "loss": {"module": "keras.losses", "class_name": "BinaryCrossentropy",
               "config": {"name": "binary_crossentropy", "reduction": "sum_over_batch_size",
                          "from_logits": true, "label_smoothing": 0.0, "axis": -1,
                          "dtype": null}, "registered_name": null},
      "loss_weights": null, "metrics": ["accuracy"], "weighted_metrics": null,
      "run_eagerly": false, "steps_per_execution": 1, "jit_compile": false}})"));
  CHECK(cfg.model.loss().name() == "binary_crossentropy");
  CHECK(cfg.model.loss().from_logits());
  CHECK(cfg.model.optimizer().class_name() == "Adam");
  CHECK(optimizer_to_json(cfg.model.optimizer())["config"]["learning_rate"].get<float>() == 0.01f);
  // tf.keras 2.x writes reduction "auto" and the function name.
  TrainConfig mse = parse(patched(R"({"model": {"layers": [
      {"class_name": "Dense", "config": {"units": 1}}]},
      "data": {"train": {"generator": "regression", "rows": 20, "targets": 1}},
      "compile": {"metrics": null, "loss": {"class_name": "MeanSquaredError",
                  "config": {"reduction": "auto", "name": "mean_squared_error"}}}})"));
  CHECK(mse.model.loss().name() == "mean_squared_error");
  CHECK(parse(patched(R"({"compile": {"loss": "binary_crossentropy"}})"))
            .model.loss()
            .from_logits() == false);
}

TEST_CASE(
    "train config: compile.epsilon is Keras' epsilon(), the cross-entropies' clipping bound") {
  CHECK(parse(patched(R"({"compile": {"loss": "binary_crossentropy"}})"))
            .model.loss()
            .clip_epsilon() == 1e-7f);
  CHECK(parse(patched(R"({"compile": {"loss": "binary_crossentropy", "epsilon": 0.01}})"))
            .model.loss()
            .clip_epsilon() == 0.01f);
  CHECK(error_of(patched(R"({"compile": {"epsilon": 0.5}})")).find("compile.epsilon") !=
        std::string::npos);
}

TEST_CASE("train config errors: data section") {
  CHECK(error_of(patched(R"({"data": {"train": {"csv": "a.csv", "generator": "imbalanced"}}})")) ==
        "data.train: expected exactly one of \"csv\" (a file name) and \"generator\" "
        "(\"imbalanced\" or \"regression\"), got object {\"csv\":\"a.csv\",\"generator\":"
        "\"imbalanced\",\"seed\":1}");
  CHECK(error_of(patched(R"({"data": {"train": {"generator": "moons"}}})")) ==
        "data.train.generator: expected one of \"imbalanced\", \"regression\", got \"moons\"");
  CHECK(error_of(patched(R"({"data": {"train": null}})")) ==
        "data.train: expected the training data {\"csv\": ...} or {\"generator\": ...}, got "
        "nothing");
  CHECK(error_of(patched(R"({"data": {"validation": {"generator": "imbalanced"},
                                      "validation_split": 0.1}})")) ==
        "data.validation_split: expected no validation_split when \"validation\" is given (one "
        "or the other), got 0.1");
  CHECK(error_of(patched(R"({"data": {"validation_split": 1}})")) ==
        "data.validation_split: expected a number in (0, 1), got 1");
  // The data must fit the model: input width, and targets the loss accepts.
  CHECK(error_of(patched(R"({"data": {"train": {"generator": "regression", "features": 3,
                                                "targets": 1}}})")) ==
        "data.train: 3 feature columns (x0, x1, x2), but the model takes inputs of width 10");
  CHECK(error_of(patched(R"({"data": {"train": {"generator": "regression", "targets": 2}}})")) ==
        "data.train: binary_crossentropy: targets of shape (1000, 2) do not fit 1 model outputs; "
        "expected 1 target columns, one per output");
}

TEST_CASE("train config: CSV data, relative paths and label columns") {
  TempDir dir("csv");
  fs::create_directories(dir.path / "data");
  write_text(dir.path / "data" / "train.csv", "a,label,b\n1,0,2\n3,1,4\n5,0,6\n7,1,8\n");
  write_text(dir.path / "data" / "val.csv", "a,label,b\n1,1,1\n2,0,2\n");
  write_text(dir.path / "data" / "other.csv", "a,c,label\n1,1,1\n");
  const json config = json::parse(R"({
    "model": {"input_dim": 2, "layers": [{"class_name": "Dense",
                                          "config": {"units": 1, "activation": "sigmoid"}}]},
    "compile": {"optimizer": "sgd", "loss": "binary_crossentropy"},
    "data": {"train": {"csv": "data/train.csv", "label_columns": ["label"]},
             "validation": {"csv": "data/val.csv"}}})");
  TrainConfig cfg = parse(config, dir.path);
  CHECK(cfg.train.x == Tensor{{1, 2}, {3, 4}, {5, 6}, {7, 8}});
  CHECK(cfg.train.y == Tensor{{0}, {1}, {0}, {1}});
  CHECK(cfg.feature_columns == std::vector<std::string>{"a", "b"});
  CHECK(cfg.label_columns == std::vector<std::string>{"label"});
  REQUIRE(cfg.validation.has_value());  // label columns taken from the training data
  CHECK(cfg.validation->y == Tensor{{1}, {0}});

  // validation_split: the last rows, before shuffling (Keras).
  json split = config;
  split["data"].erase("validation");
  split["data"]["validation_split"] = 0.25;
  TrainConfig s = parse(split, dir.path);
  CHECK(s.train.size() == 3);
  REQUIRE(s.validation.has_value());
  CHECK(s.validation->x == Tensor{{7, 8}});

  json missing = config;
  missing["data"]["train"]["csv"] = "data/nope.csv";
  CHECK_THROWS_WITH_AS(
      parse(missing, dir.path),
      doctest::Contains(("data.train.csv: CSV file '" + (dir.path / "data" / "nope.csv").string() +
                         "' does not exist")
                            .c_str()),
      Error);
  json no_labels = config;
  no_labels["data"]["train"].erase("label_columns");
  CHECK(error_of(no_labels, dir.path) ==
        "data.train.label_columns: expected a non-empty list of column names, such as [\"y\"], "
        "got nothing");
  json twice = config;
  twice["data"]["train"]["label_columns"] = {"label", "label"};
  CHECK(error_of(twice, dir.path) == "data.train.label_columns[1]: column 'label' is listed twice");
  json other = config;
  other["data"]["validation"]["csv"] = "data/other.csv";
  CHECK(error_of(other, dir.path) ==
        "data.validation: the feature columns (a, c) differ from the training data's (a, b)");
}

TEST_CASE("train config errors: callbacks") {
  CHECK(error_of(patched(R"({"fit": {"callbacks": [{"class_name": "ModelCheckpoint"}]}})")) ==
        "fit.callbacks[0].class_name: unknown callback 'ModelCheckpoint'; expected one of "
        "CSVLogger, EarlyStopping, PreciseBN, ReduceLROnPlateau, StepLogger, TerminateOnNaN");
  CHECK(error_of(patched(R"({"fit": {"callbacks": [{"class_name": "CSVLogger"}]}})")) ==
        "fit.callbacks[0].config.filename: expected a file name, got nothing");
  CHECK(error_of(patched(R"({"fit": {"callbacks": [{"class_name": "CSVLogger", "config":
                             {"filename": "a.csv", "separator": ";;"}}]}})")) ==
        "fit.callbacks[0].config.separator: expected one character, such as \",\", got \";;\"");
  CHECK(error_of(patched(R"({"fit": {"callbacks": "CSVLogger"}})")) ==
        "fit.callbacks: expected a list of {\"class_name\": ..., \"config\": {...}}, got "
        "\"CSVLogger\"");
  CHECK(error_of(patched(R"({"fit": {"callbacks": ["CSVLogger"]}})")) ==
        "fit.callbacks[0]: expected a JSON object {...}, got \"CSVLogger\"");
}

TEST_CASE("train config: callbacks, class weights, overrides and fit_options") {
  TrainConfig cfg = train_config_from_json(
      patched(R"({"data": {"validation": {"generator": "imbalanced", "seed": 2}},
                  "fit": {"class_weight": {"0": 1, "1": 10}, "steps_per_epoch": 5,
                          "verbose": "auto", "callbacks": [
        {"class_name": "CSVLogger", "config": {"filename": "logs/epochs.csv", "append": true}},
        {"class_name": "StepLogger", "config": {"filename": "/tmp/steps.csv"}}]}})"),
      "/base", "test.json", {.epochs = 7, .seed = 11, .verbose = 2});
  CHECK(cfg.fit.epochs == 7);
  CHECK(cfg.fit.seed == 11);
  CHECK(cfg.fit.verbose == 2);
  CHECK(cfg.fit.steps_per_epoch == 5);
  CHECK(cfg.fit.class_weight == std::vector<std::pair<std::size_t, float>>{{0, 1.0f}, {1, 10.0f}});
  REQUIRE(cfg.callbacks.size() == 2);
  const auto* logger = dynamic_cast<const CSVLogger*>(cfg.callbacks[0].get());
  REQUIRE(logger != nullptr);
  CHECK(logger->filename() == "/base/logs/epochs.csv");  // relative to the config's folder
  const FitOptions options = cfg.fit_options();
  CHECK(options.callbacks ==
        std::vector<Callback*>{cfg.callbacks[0].get(), cfg.callbacks[1].get()});
  REQUIRE(options.validation_data.has_value());
  CHECK(options.validation_data->x == cfg.validation->x);
  CHECK(parse(patched(R"({"fit": {"verbose": "auto"}})")).fit.verbose == 1);
}

TEST_CASE("train config: fit.seed seeds the initial weights and the same seed gives the same run") {
  TrainConfig a = parse(base_config()), b = parse(base_config());
  TrainConfig c = parse(patched(R"({"fit": {"seed": 4}})"));
  CHECK(same_variables(a.model, b.model));
  CHECK_FALSE(same_variables(a.model, c.model));
  a.model.fit(a.train, a.fit_options());
  b.model.fit(b.train, b.fit_options());
  CHECK(same_variables(a.model, b.model));  // bit-identical on one thread
}

TEST_CASE("train config: initial_weights resumes from a saved model") {
  TempDir dir("resume");
  TrainConfig first = parse(patched(R"({"fit": {"epochs": 5}})"));
  first.model.fit(first.train, first.fit_options());
  save_model(first.model, dir.path / "saved");

  // A relative path, against the config's folder; a different seed would draw other weights.
  TrainConfig resumed =
      parse(patched(R"({"initial_weights": "saved", "fit": {"seed": 99}})"), dir.path);
  CHECK(same_variables(resumed.model, first.model));  // moving statistics included
  const auto& bn = dynamic_cast<const BatchNormalization&>(resumed.model.layer(2));
  CHECK(bn.moving_variance[0] != 1.0f);

  // Training goes on from there: the resumed model scores what the first run ended with, and
  // its next epoch runs below a fresh start's first.
  TrainConfig fresh = parse(patched(R"({"fit": {"seed": 99}})"));
  const Tensor& x = first.train.x;
  const Tensor& y = first.train.y;
  const float trained = log_value(first.model.evaluate(x, y), "loss");
  CHECK(log_value(resumed.model.evaluate(x, y), "loss") == trained);
  CHECK(trained < 0.5f * log_value(fresh.model.evaluate(x, y), "loss"));
  const float resumed_loss = resumed.model.fit(resumed.train, resumed.fit_options())["loss"][0];
  const float fresh_loss = fresh.model.fit(fresh.train, fresh.fit_options())["loss"][0];
  CHECK(resumed_loss < fresh_loss);

  CHECK_THROWS_WITH_AS(parse(patched(R"({"initial_weights": "nowhere"})"), dir.path),
                       doctest::Contains("initial_weights: "), Error);
  // Weights of another architecture do not fit.
  json other = patched(R"({"initial_weights": "saved"})");
  other["model"]["layers"][0]["config"]["units"] = 9;
  CHECK_THROWS_WITH_AS(parse(other, dir.path), doctest::Contains("initial_weights: "), Error);
}

TEST_CASE("train config: a saved model directory as the model") {
  TempDir dir("saved_model");
  TrainConfig first = parse(base_config());
  save_model(first.model, dir.path / "saved");
  TrainConfig cfg = parse(patched(R"({"model": "saved"})"), dir.path);
  CHECK(same_variables(cfg.model, first.model));
}

TEST_CASE("train config: every shipped config loads") {
  const fs::path configs = fs::path(NORMLAB_SOURCE_DIR) / "configs";
  TrainConfig imbalanced = load_train_config(configs / "imbalanced.json");
  CHECK(imbalanced.model.num_layers() == 4);
  CHECK(imbalanced.train.size() == 1100);
  CHECK(imbalanced.validation->size() == 1100);
  CHECK(imbalanced.fit.epochs == 10);
  CHECK_FALSE(imbalanced.description.empty());

  TrainConfig basic = load_train_config(configs / "example_basic.json");
  CHECK(dynamic_cast<BatchNormalization&>(basic.model.get_layer("bn_layer")).config().momentum ==
        0.99f);
  TrainConfig loop = load_train_config(configs / "example_custom_loop.json");
  CHECK(dynamic_cast<BatchNormalization&>(loop.model.get_layer("bn_layer")).config().momentum ==
        0.9f);
  CHECK(loop.train.y.cols() == 64);

  // The CSV one, with its data file resolved against configs/.
  TrainConfig csv = load_train_config(configs / "csv_classifier.json");
  CHECK(csv.train.size() == 240);
  CHECK(csv.validation->size() == 60);
  CHECK(csv.feature_columns == std::vector<std::string>{"x1", "x2", "x3", "x4"});
  CHECK(csv.label_columns == std::vector<std::string>{"class"});
  CHECK(csv.model.loss().name() == "sparse_categorical_crossentropy");

  // load_train_config puts the file's name in front of every message.
  TempDir dir("bad_file");
  json bad = base_config();
  bad["model"]["layers"][2]["config"]["momentum"] = 1.5;
  write_text(dir.path / "bad.json", bad.dump());
  CHECK_THROWS_WITH_AS(load_train_config(dir.path / "bad.json"),
                       ((dir.path / "bad.json").string() +
                        ": model.layers[2].config.momentum: expected a number in [0, 1), got 1.5")
                           .c_str(),
                       Error);
}

TEST_CASE("train config: a model preset sets BatchNormalization and Adam as that framework") {
  json config = patched(R"({"model": {"preset": "pytorch"}})");
  config["model"]["layers"][2]["config"] = {{"pytorch_momentum", 0.1}};
  TrainConfig cfg = parse(config);
  auto& bn = dynamic_cast<BatchNormalization&>(cfg.model.layer(2));
  CHECK(bn.config().momentum == doctest::Approx(0.9));
  CHECK(bn.config().epsilon == doctest::Approx(1e-5));
  CHECK(bn.config().moving_variance_update == VarianceUpdate::Unbiased);
  const json adam = cfg.model.optimizer().get_config();
  CHECK(adam["epsilon_placement"] == "pytorch");
  CHECK(adam["epsilon"].get<double>() == doctest::Approx(1e-8));

  // A Keras momentum under the pytorch preset would be ambiguous: it is an error.
  const std::string message = error_of(patched(R"({"model": {"preset": "pytorch"}})"));
  CHECK(message.find("model.layers[2].config.momentum") != std::string::npos);
  CHECK(error_of(patched(R"({"model": {"preset": "caffe"}})")).find("keras3") != std::string::npos);
}
