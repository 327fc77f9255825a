// Checkpoints (io/checkpoint.h): a fit stopped after K steps and resumed from its checkpoint in
// a freshly built model ends with every weight, moving statistic, optimizer slot and the
// History bit-identical to an uninterrupted fit (Adam and SGD with momentum, shuffled, stopped
// mid-epoch and at an epoch boundary); damaged checkpoints are clear errors that change nothing;
// TerminateOnNaN stops at the first non-finite loss, names the step and the last finite loss,
// and the last good checkpoint stays.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "io/checkpoint.h"
#include "io/model_file.h"
#include "io/train_config.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "model/csv_logger.h"
#include "model/sequential.h"
#include "model_weights.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "run_program.h"
#include "temp_dir.h"

using namespace normlab;
using normlab::testing::all_weights;
namespace fs = std::filesystem;

namespace {

using testing::read_file_text;
using testing::TempDir;

// 100 rows of 5 features, label [sum of the first two > 0].
Dataset make_data() {
  Rng rng(7);
  Dataset d;
  d.x = Tensor(100, 5);
  d.y = Tensor(100, 1);
  for (std::size_t i = 0; i < 100; ++i) {
    for (std::size_t j = 0; j < 5; ++j) d.x(i, j) = static_cast<float>(rng.normal());
    d.y(i, 0) = d.x(i, 0) + d.x(i, 1) > 0.0f ? 1.0f : 0.0f;
  }
  return d;
}

enum class Opt { Adam, SgdMomentum };

// Dense(8) -> BN -> ReLU -> Dense(1, sigmoid); `seed` draws the initial weights.
Sequential make_model(Opt opt, std::uint64_t seed) {
  Sequential model(5, seed);
  model.add(Dense(8));
  model.add(BatchNormalization({.momentum = 0.9f}));
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  if (opt == Opt::Adam)
    model.compile(Adam({.learning_rate = 0.01f}), "binary_crossentropy", {"accuracy"});
  else
    model.compile(SGD({.learning_rate = 0.05f, .momentum = 0.9f}), "binary_crossentropy",
                  {"accuracy"});
  return model;
}

// 80 training rows in batches of 12 (the 7th holds 8), 20 validation rows, 3 epochs: 21 steps.
constexpr std::size_t kBatches = 7;
FitOptions fit_options() {
  return {.batch_size = 12,
          .epochs = 3,
          .shuffle = true,
          .seed = 3,
          .verbose = 0,
          .validation_split = 0.2};
}

// Calls f(model, step) after every step.
struct OnStep : Callback {
  std::function<void(Sequential&, const StepInfo&)> f;
  explicit OnStep(std::function<void(Sequential&, const StepInfo&)> fn) : f(std::move(fn)) {}
  void on_batch_end(Sequential& model, const StepInfo& step) override { f(model, step); }
};

struct Killed {};  // stands for the process dying

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Every variable of every layer (weights and moving statistics) and every optimizer slot.
std::vector<Tensor> everything(Sequential& model) {
  std::vector<Tensor> out = all_weights(model);
  for (const auto& v : model.optimizer().slot_variables()) out.push_back(*v.value);
  return out;
}

void check_identical(Sequential& a, Sequential& b) {
  const auto x = everything(a), y = everything(b);
  REQUIRE(x.size() == y.size());
  for (std::size_t i = 0; i < x.size(); ++i) CHECK_MESSAGE(same_bits(x[i], y[i]), "tensor " << i);
  CHECK(a.optimizer().iterations() == b.optimizer().iterations());
  CHECK(a.rng().state() == b.rng().state());
}

}  // namespace

TEST_CASE("a fit resumed from its checkpoint ends bit-identical to an uninterrupted one") {
  set_num_threads(1);
  const Dataset data = make_data();
  for (const Opt opt : {Opt::Adam, Opt::SgdMomentum}) {
    // 10: mid-epoch (epoch 2, 3 of 7 batches done); 14: after the last batch of epoch 2.
    for (const std::int64_t stop : {std::int64_t{10}, std::int64_t{2 * kBatches}}) {
      CAPTURE(static_cast<int>(opt));
      CAPTURE(stop);
      // The CSV log of the resumed run reads as the uninterrupted run's.
      TempDir logs("resume-logs");
      const std::string full_log = (logs.path / "full.csv").string();
      const std::string run_log = (logs.path / "run.csv").string();
      CSVLogger full_logger(full_log), first_logger(run_log), resumed_logger(run_log);
      Sequential reference = make_model(opt, 1);
      FitOptions ref_options = fit_options();
      ref_options.callbacks = {&full_logger};
      const History full = reference.fit(data, ref_options);
      REQUIRE(full.epochs() == 3);

      TempDir dir("resume");
      Sequential first = make_model(opt, 1);
      CheckpointWriter writer(dir.path, 4);  // also at steps 4 and 8, replaced by later ones
      OnStep kill([&](Sequential& model, const StepInfo& step) {
        if (step.step == stop) {
          save_checkpoint(model, model.fit_state(), dir.path);
          throw Killed{};
        }
      });
      FitOptions o = fit_options();
      o.callbacks = {&writer, &kill, &first_logger};
      CHECK_THROWS_AS(first.fit(data, o), Killed);
      first_logger.on_train_end(first);  // the file a killed process leaves

      // Only the newest checkpoint is left, and DIR/latest names it.
      std::vector<std::string> names;
      for (const auto& e : fs::directory_iterator(dir.path))
        names.push_back(e.path().filename().string());
      std::sort(names.begin(), names.end());
      const std::string name = stop == 10 ? "step-00000010" : "step-00000014";
      CHECK(names == std::vector<std::string>{"latest", name});

      // A model with other initial weights takes everything from the checkpoint.
      Sequential resumed = make_model(opt, 99);
      const Checkpoint c = load_checkpoint(resumed, dir.path);
      CHECK(c.path == dir.path / name);
      CHECK(c.step == stop);
      CHECK(c.fit.step == stop);
      CHECK(c.fit.epoch == 1);
      CHECK(c.fit.batch == static_cast<std::size_t>(stop) - kBatches);
      CHECK(c.fit.history.epochs() == 1);
      check_identical(resumed, first);  // the state when the checkpoint was taken
      o = fit_options();
      o.resume_from = c.fit;
      o.callbacks = {&resumed_logger};
      const History rest = resumed.fit(data, o);
      check_identical(resumed, reference);
      CHECK(rest == full);  // every epoch's loss, accuracy, val_loss, val_accuracy
      CHECK(read_file_text(run_log) == read_file_text(full_log));
    }
  }
}

TEST_CASE("a checkpoint at the end of a fit resumes to nothing left to do") {
  const Dataset data = make_data();
  TempDir dir("end");
  Sequential model = make_model(Opt::Adam, 1);
  CheckpointWriter writer(dir.path, 0);  // after every epoch's last batch
  FitOptions o = fit_options();
  o.callbacks = {&writer};
  const History full = model.fit(data, o);
  CHECK(writer.last_saved() == dir.path / "step-00000021");
  Sequential again = make_model(Opt::Adam, 2);
  o = fit_options();
  o.resume_from = load_checkpoint(again, dir.path).fit;
  CHECK(again.fit(data, o) == full);
  check_identical(again, model);
}

TEST_CASE("fit_state and resume_from are checked") {
  const Dataset data = make_data();
  Sequential model = make_model(Opt::Adam, 1);
  CHECK_THROWS_WITH_AS(model.fit_state(), "fit_state: no fit is running", Error);
  FitOptions o = fit_options();
  FitState bad;
  bad.batch = kBatches + 1;
  o.resume_from = bad;
  CHECK_THROWS_WITH_AS(model.fit(data, o),
                       doctest::Contains("batch 8 is past the 7 batches of an epoch"), Error);
}

TEST_CASE("a damaged checkpoint is a clear error that leaves the model as it was") {
  const Dataset data = make_data();
  TempDir dir("damaged");
  {
    Sequential model = make_model(Opt::Adam, 1);
    CheckpointWriter writer(dir.path, 5);
    FitOptions o = fit_options();
    o.epochs = 1;
    o.callbacks = {&writer};
    model.fit(data, o);
  }
  const fs::path ckpt = dir.path / "step-00000005";
  // Each SUBCASE runs the test case again from the top, on a fresh checkpoint.
  const auto damage = [&](const fs::path& file, const std::function<void(std::string&)>& edit) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    in.close();
    edit(bytes);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  };
  const auto expect_error = [&](const std::string& part) {
    Sequential model = make_model(Opt::Adam, 42);
    const auto before = everything(model);
    CHECK_THROWS_WITH_AS(load_checkpoint(model, dir.path), doctest::Contains(part.c_str()), Error);
    const auto after = everything(model);
    REQUIRE(before.size() <= after.size());  // load may have made the (zero) slots
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(same_bits(before[i], after[i]));
  };

  SUBCASE("truncated optimizer.bin") {
    damage(ckpt / "optimizer.bin", [](std::string& b) { b.resize(b.size() - 6); });
    expect_error((ckpt / "optimizer.bin").string() + ": ");
    expect_error("float32 slot values");
  }
  SUBCASE("truncated training.json") {
    damage(ckpt / "training.json", [](std::string& b) { b.resize(b.size() / 2); });
    expect_error((ckpt / "training.json").string() + ": not valid JSON");
  }
  SUBCASE("a number beyond double's range in training.json") {
    damage(ckpt / "training.json", [](std::string& b) { b = "{\"step\": 1e999}"; });
    expect_error((ckpt / "training.json").string() + ": not valid JSON");
  }
  SUBCASE("a field of the wrong type") {
    damage(ckpt / "training.json", [](std::string& b) {
      auto j = nlohmann::json::parse(b);
      j["fit"]["batcher"]["next_batch"] = "x";
      b = j.dump();
    });
    expect_error(
        "training.json: fit.batcher.next_batch: expected a non-negative integer, got "
        "\"x\"");
  }
  SUBCASE("truncated weights.bin") {
    damage(ckpt / "weights.bin", [](std::string& b) { b.resize(b.size() - 4); });
    expect_error("weights.bin");
  }
  SUBCASE("latest names no checkpoint") {
    std::ofstream(dir.path / "latest", std::ios::trunc) << "step-00000099\n";
    expect_error("names step-00000099, which is not a folder");
  }
  SUBCASE("another optimizer") {
    Sequential sgd = make_model(Opt::SgdMomentum, 1);
    CHECK_THROWS_WITH_AS(load_checkpoint(sgd, dir.path),
                         doctest::Contains("optimizer.class_name: expected \"SGD\""), Error);
  }
  SUBCASE("no checkpoint at all") {
    fs::remove(dir.path / "latest");
    CHECK_FALSE(latest_checkpoint(dir.path).has_value());
    expect_error("no checkpoint");
  }
}

TEST_CASE("TerminateOnNaN stops at the first non-finite loss and the last checkpoint stays") {
  const Dataset data = make_data();
  // A NaN in the output layer's kernel after step 9 makes the loss of step 10 (epoch 2, batch 3
  // of 7) NaN. (The output layer: the ReLU before it turns NaN into 0.)
  for (const bool poison_before_writer : {false, true}) {
    CAPTURE(poison_before_writer);
    TempDir dir("nan");
    Sequential model = make_model(Opt::Adam, 1);
    TerminateOnNaN nan_stop;
    CheckpointWriter writer(dir.path, 1);
    float loss9 = 0.0f;
    std::vector<Tensor> at8, at9;
    OnStep poison([&](Sequential& m, const StepInfo& step) {
      if (step.step == 8) at8 = everything(m);
      if (step.step != 9) return;
      loss9 = step.batch_loss;
      at9 = everything(m);
      (*m.layer_variables(3)[0].value)[0] = std::nanf("");
    });
    FitOptions o = fit_options();
    o.callbacks = poison_before_writer ? std::vector<Callback*>{&nan_stop, &poison, &writer}
                                       : std::vector<Callback*>{&nan_stop, &writer, &poison};
    const History h = model.fit(data, o);
    CHECK(h.epochs() == 2);  // epoch 2 ends early, epoch 3 never begins
    REQUIRE(nan_stop.stopped());
    char last[32];
    std::snprintf(last, sizeof last, "%.6g", static_cast<double>(loss9));
    CHECK(nan_stop.message() ==
          "loss is nan at epoch 2/3, batch 3/7 (step 10); the last "
          "finite loss was " +
              std::string(last) + " (step 9)");

    // The writer skipped every step with a NaN: poisoned before it wrote, step 9 is not saved.
    const std::int64_t good = poison_before_writer ? 8 : 9;
    const auto latest = latest_checkpoint(dir.path);
    REQUIRE(latest.has_value());
    CHECK(latest->filename() == (good == 8 ? "step-00000008" : "step-00000009"));
    Sequential restored = make_model(Opt::Adam, 5);
    load_checkpoint(restored, dir.path);
    const auto saved = everything(restored);
    const auto& expected = good == 8 ? at8 : at9;
    REQUIRE(saved.size() == expected.size());
    for (std::size_t i = 0; i < saved.size(); ++i) CHECK(same_bits(saved[i], expected[i]));
  }
}

TEST_CASE("TerminateOnNaN at the very first step") {
  Dataset data = make_data();
  Sequential model = make_model(Opt::Adam, 1);
  (*model.layer_variables(3)[1].value)[0] = std::nanf("");  // a NaN bias from the start
  TerminateOnNaN nan_stop;
  FitOptions o = fit_options();
  o.callbacks = {&nan_stop};
  model.fit(data, o);
  CHECK(nan_stop.message() ==
        "loss is nan at epoch 1/3, batch 1/7 (step 1); no earlier step of this run had a finite "
        "loss");
}

TEST_CASE("TerminateOnNaN in a config's callbacks") {
  const auto callback = callback_from_json(
      nlohmann::json::parse(R"({"class_name": "TerminateOnNaN"})"), "fit.callbacks[0]", "");
  CHECK(dynamic_cast<TerminateOnNaN*>(callback.get()) != nullptr);
  CHECK_THROWS_WITH_AS(
      callback_from_json(
          nlohmann::json::parse(R"({"class_name": "TerminateOnNaN", "config": {"patience": 1}})"),
          "fit.callbacks[0]", ""),
      doctest::Contains("fit.callbacks[0].config.patience"), Error);
}

#ifdef NORMLAB_APPS_DIR
TEST_CASE("normlab train stops on a non-finite loss with status 2 and writes no model") {
  TempDir dir("cli_nan");
  // SGD with a learning rate of 1e6 on a regression: the loss overflows within a few steps.
  std::ofstream(dir / "nan.json") << R"({
    "model": {"input_dim": 10, "layers": [{"class_name": "Dense", "config": {"units": 4}},
                                          {"class_name": "Dense", "config": {"units": 1}}]},
    "compile": {"optimizer": {"class_name": "SGD", "config": {"learning_rate": 1e6}},
                "loss": "mse"},
    "data": {"train": {"generator": "regression", "seed": 1, "rows": 200, "targets": 1}},
    "fit": {"batch_size": 20, "epochs": 3, "verbose": 0}})";
  const std::string command = std::string("'") + NORMLAB_APPS_DIR + "/normlab' train '" +
                              (dir / "nan.json").string() + "' --out '" + (dir / "model").string() +
                              "' --checkpoint '" + (dir / "ckpt").string() +
                              "' --checkpoint-every 1";
  const auto r = testing::run_program(command);
  CHECK(r.status == 2);
  CHECK_MESSAGE(r.err.find("normlab: error: training stopped: loss is ") == 0, r.err);
  CHECK(r.err.find("; the last finite loss was ") != std::string::npos);
  CHECK(r.err.find("; no model written; the last good checkpoint is " +
                   (dir / "ckpt" / "step-0000000").string()) != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "model"));
  const auto latest = latest_checkpoint(dir / "ckpt");
  REQUIRE(latest.has_value());
  // The checkpoint holds the last step with a finite loss and finite weights.
  Sequential restored = load_model(*latest);
  for (const auto& t : everything(restored))
    for (const float x : t) CHECK(std::isfinite(x));
}
#endif
