// The training logs: CSVLogger (one row per epoch, Keras' CSVLogger) and StepLogger (one row per
// step: the batch loss before the update, every BatchNormalization layer's moving statistics
// after it), read back with read_csv and checked against the model.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"
#include "data/csv.h"
#include "data/generators.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "model/csv_logger.h"
#include "model/sequential.h"
#include "model/step_logger.h"
#include "optim/adam.h"

using namespace normlab;
namespace fs = std::filesystem;

namespace {

struct TempPath {
  fs::path path;
  explicit TempPath(const std::string& name)
      : path(fs::temp_directory_path() /
             ("normlab_test_logger_" + std::to_string(::getpid()) + "_" + name)) {
    fs::remove(path);
  }
  ~TempPath() { fs::remove(path); }
  std::string str() const { return path.string(); }
};

// Dense(4) -> BatchNormalization(0.9) -> ReLU -> Dense(1, sigmoid) on 10 inputs.
Sequential classifier(std::uint64_t seed) {
  Sequential model(10, seed);
  model.add(Dense(4));
  model.add(BatchNormalization({.momentum = 0.9f}));
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  return model;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("CSVLogger: one row per epoch with loss, metrics and val_*, values exact") {
  TempPath log("epochs.csv");
  const Dataset data = make_imbalanced(1);
  const Dataset validation = make_imbalanced(2);
  Sequential model = classifier(0);
  CSVLogger logger(log.str());
  const History h = model.fit(data, {.batch_size = 100,
                                     .epochs = 3,
                                     .verbose = 0,
                                     .validation_data = validation,
                                     .callbacks = {&logger}});

  CHECK(csv_header(log.str()) ==
        std::vector<std::string>{"epoch", "loss", "accuracy", "val_loss", "val_accuracy"});
  const Dataset rows = read_csv(log.str(), {"epoch"});
  CHECK(rows.y == Tensor{{0}, {1}, {2}});  // 0-based, as Keras writes it
  REQUIRE(rows.x.rows() == 3);
  for (std::size_t e = 0; e < 3; ++e) {
    CHECK(rows.x(e, 0) == h["loss"][e]);
    CHECK(rows.x(e, 1) == h["accuracy"][e]);
    CHECK(rows.x(e, 2) == h["val_loss"][e]);
    CHECK(rows.x(e, 3) == h["val_accuracy"][e]);
  }

  // A second fit truncates the file (append = false).
  model.fit(data, {.batch_size = 100, .epochs = 1, .verbose = 0, .callbacks = {&logger}});
  CHECK(read_csv(log.str(), {"epoch"}).size() == 1);
}

TEST_CASE("CSVLogger: append keeps the rows and the single header, and any separator") {
  TempPath log("append.csv");
  const Dataset data = make_imbalanced(1);
  Sequential model = classifier(0);
  CSVLogger logger(log.str(), ',', /*append=*/true);
  model.fit(data, {.batch_size = 200, .epochs = 2, .verbose = 0, .callbacks = {&logger}});
  model.fit(data, {.batch_size = 200, .epochs = 1, .verbose = 0, .callbacks = {&logger}});
  CHECK(read_csv(log.str(), {"epoch"}).y == Tensor{{0}, {1}, {0}});

  TempPath semicolons("semicolons.csv");
  CSVLogger semi(semicolons.str(), ';');
  model.fit(data, {.batch_size = 200, .epochs = 1, .verbose = 0, .callbacks = {&semi}});
  const std::string text = read_text(semicolons.path);
  CHECK(text.rfind("epoch;loss;accuracy\n0;", 0) == 0);
}

TEST_CASE("CSVLogger and StepLogger: a file that cannot be written is an error naming it") {
  const Dataset data = make_imbalanced(1);
  Sequential model = classifier(0);
  CSVLogger logger("/nonexistent/normlab/log.csv");
  CHECK_THROWS_WITH_AS(
      model.fit(data, {.epochs = 1, .verbose = 0, .callbacks = {&logger}}),
      "/nonexistent/normlab/log.csv: cannot open the log file for writing (No such file or "
      "directory)",
      Error);
  StepLogger steps("/nonexistent/normlab/steps.csv");
  CHECK_THROWS_WITH_AS(model.fit(data, {.epochs = 1, .verbose = 0, .callbacks = {&steps}}),
                       doctest::Contains("/nonexistent/normlab/steps.csv: cannot open"), Error);
  CHECK_THROWS_AS(CSVLogger(""), Error);
}

TEST_CASE("StepLogger: batch loss before the step, moving statistics after it, every step") {
  TempPath log("steps.csv");
  const Dataset data = make_imbalanced(1);
  Sequential model = classifier(5);
  StepLogger logger(log.str());
  // No shuffling, so the first batch is rows 0..99.
  model.fit(
      data,
      {.batch_size = 100, .epochs = 2, .shuffle = false, .verbose = 0, .callbacks = {&logger}});

  const auto header = csv_header(log.str());
  REQUIRE(header.size() == 4 + 2 * 4);
  CHECK(std::vector<std::string>(header.begin(), header.begin() + 6) ==
        std::vector<std::string>{"epoch", "batch", "step", "loss",
                                 "batch_normalization/moving_mean[0]",
                                 "batch_normalization/moving_mean[1]"});
  CHECK(header[8] == "batch_normalization/moving_variance[0]");
  const Dataset rows = read_csv(log.str(), {});
  REQUIRE(rows.size() == 2 * 11);  // 1100 rows in batches of 100, two epochs
  CHECK(rows.x(0, 0) == 0);
  CHECK(rows.x(12, 0) == 1);   // epoch
  CHECK(rows.x(12, 1) == 1);   // batch within the epoch
  CHECK(rows.x(12, 2) == 13);  // step, 1-based

  // A twin model (same seed) takes the first step by hand: the logged loss is its training
  // forward before the update; the logged statistics are those the forward left behind.
  Sequential twin = classifier(5);
  Tensor x(100, 10), y(100, 1);
  std::copy(data.x.row(0), data.x.row(100), x.data());
  std::copy(data.y.row(0), data.y.row(100), y.data());
  const float first_loss = twin.train_on_batch(x, y);
  CHECK(rows.x(0, 3) == first_loss);
  const auto& bn = dynamic_cast<const BatchNormalization&>(twin.layer(1));
  for (std::size_t j = 0; j < 4; ++j) {
    CHECK(rows.x(0, 4 + j) == bn.moving_mean[j]);
    CHECK(rows.x(0, 8 + j) == bn.moving_variance[j]);
  }
  // The last row is the model's final state.
  const auto& final_bn = dynamic_cast<const BatchNormalization&>(model.layer(1));
  for (std::size_t j = 0; j < 4; ++j) {
    CHECK(rows.x(21, 4 + j) == final_bn.moving_mean[j]);
    CHECK(rows.x(21, 8 + j) == final_bn.moving_variance[j]);
  }
}
