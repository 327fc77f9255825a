// The population-statistics commands, run as a user runs them: normlab recalibrate (PreciseBN),
// normlab inspect --data (moving against population statistics, both modes) and normlab export
// --fold-bn / --unfold, with exit status 2 and "normlab: error: ..." for bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/csv.h"
#include "data/generators.h"
#include "io/model_file.h"
#include "layers/batch_normalization.h"
#include "model/precise_bn.h"
#include "tests/run_program.h"
#include "tests/temp_dir.h"

#ifdef NORMLAB_APPS_DIR

using namespace normlab;
using normlab::testing::kNormlab;
using normlab::testing::lines_starting;
using normlab::testing::quoted;
using normlab::testing::read_file_text;
using normlab::testing::run_program;
using normlab::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Example 3's model for one epoch: 35 steps of batch size 32 over 1100 rows.
const char* kConfig = R"({
  "model": {"input_dim": 10, "layers": [
    {"class_name": "Dense", "config": {"units": 8}},
    {"class_name": "BatchNormalization", "config": {"momentum": 0.9}},
    {"class_name": "Activation", "config": {"activation": "relu"}},
    {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}]},
  "compile": {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]},
  "data": {"train": {"generator": "imbalanced", "seed": 1}},
  "fit": {"batch_size": 32, "epochs": 1, "seed": 0, "verbose": 0}})";

// The imbalanced-classes data as a CSV file with normlab train's column names.
void write_data_csv(const fs::path& path, std::uint64_t seed) {
  const Dataset d = make_imbalanced(seed);
  Tensor table(d.size(), 11);
  for (std::size_t i = 0; i < d.size(); ++i) {
    std::copy(d.x.row(i), d.x.row(i) + 10, table.row(i));
    table(i, 10) = d.y(i, 0);
  }
  write_csv(path, {"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "y"}, table);
}

// A trained model in dir/model and its data in dir/data.csv.
void train_model(const TempDir& dir) {
  std::ofstream(dir / "config.json") << kConfig;
  const auto train = run_program(kNormlab + " train " + quoted(dir / "config.json") + " --out " +
                                 quoted(dir / "model"));
  INFO(train.err);
  REQUIRE(train.status == 0);
  write_data_csv(dir / "data.csv", 1);
}

void check_error(const std::string& command, const std::string& message) {
  const auto r = run_program(kNormlab + " " + command);
  INFO(command, r.out, r.err);
  CHECK(r.status == 2);
  CHECK(r.err.rfind("normlab: error: ", 0) == 0);
  CHECK(r.err.find(message) != std::string::npos);
}

}  // namespace

TEST_CASE("normlab recalibrate writes the population statistics") {
  TempDir dir("cli_recalibrate");
  train_model(dir);
  const auto r = run_program(kNormlab + " recalibrate " + quoted(dir / "model") + " --data " +
                             quoted(dir / "data.csv") + " --batch-size 100 --out " +
                             quoted(dir / "recalibrated"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("Recalibrated on 1100 rows") != std::string::npos);

  // The statistics of the Dense layer's outputs over the CSV rows, in double.
  Sequential original = load_model(dir / "model");
  const PopulationMoments m =
      layer_input_moments(original, read_csv((dir / "data.csv").string(), {"y"}).x, 1);
  Sequential model = load_model(dir / "recalibrated");
  const auto& bn = dynamic_cast<const BatchNormalization&>(model.layer(1));
  for (std::size_t j = 0; j < 8; ++j) {
    CHECK(bn.moving_mean[j] == doctest::Approx(m.mean[j]).epsilon(1e-5));
    CHECK(bn.moving_variance[j] == doctest::Approx(m.variance[j]).epsilon(1e-5));
  }
  const ModelInfo info = read_model_info(dir / "recalibrated");
  CHECK(info.metadata["batch_norm_recalibrated"]["rows"] == 1100);
  CHECK_FALSE(info.metadata.contains("batch_norm_updates"));
  CHECK(info.metadata["label_columns"] == nlohmann::json{"y"});

  // --batches 2 reads the first 64 rows only; without --out the model is replaced in place.
  const auto part = run_program(kNormlab + " recalibrate " + quoted(dir / "model") + " --data " +
                                quoted(dir / "data.csv") + " --batches 2");
  INFO(part.err);
  REQUIRE(part.status == 0);
  CHECK(part.out.find("Recalibrated on 64 rows") != std::string::npos);

  check_error("recalibrate " + quoted(dir / "model") + " --data " + quoted(dir / "none.csv"),
              "none.csv");
  std::ofstream(dir / "narrow.csv") << "x0,x1,y\n1,2,0\n";
  check_error("recalibrate " + quoted(dir / "model") + " --data " + quoted(dir / "narrow.csv"),
              "the feature columns are x0, x1");
  check_error("recalibrate " + quoted(dir / "missing") + " --data " + quoted(dir / "data.csv"),
              "missing");
  const auto zero = run_program(kNormlab + " recalibrate " + quoted(dir / "model") + " --data " +
                                quoted(dir / "data.csv") + " --batch-size 0");
  CHECK(zero.status != 0);
  CHECK(zero.err.find("--batch-size") != std::string::npos);
}

TEST_CASE("normlab inspect --data: moving against population statistics, both modes") {
  TempDir dir("cli_inspect_data");
  train_model(dir);
  const auto r = run_program(kNormlab + " inspect " + quoted(dir / "model") + " --data " +
                             quoted(dir / "data.csv"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  // 35 updates with momentum 0.9: the initial values keep 0.9^35 = 0.02503.
  CHECK(lines_starting(r.out,
                       "  updates t: 35 - weight of the initial values: 0.02503 - "
                       "effective window: 10.0 batches")
            .size() == 1);
  CHECK(lines_starting(r.out, "  largest |gap|: mean ").size() == 1);
  CHECK(lines_starting(r.out, "training mode  (batch statistics)  - loss: ").size() == 1);
  CHECK(lines_starting(r.out, "inference mode (moving statistics) - loss: ").size() == 1);

  // After recalibration on the same data the gap is gone.
  REQUIRE(run_program(kNormlab + " recalibrate " + quoted(dir / "model") + " --data " +
                      quoted(dir / "data.csv"))
              .status == 0);
  const auto after = run_program(kNormlab + " inspect " + quoted(dir / "model") + " --data " +
                                 quoted(dir / "data.csv"));
  REQUIRE(after.status == 0);
  CHECK(lines_starting(after.out, "  largest |gap|: mean 0.0000, variance 0.0000").size() == 1);
  CHECK(lines_starting(after.out, "  updates t: unknown").size() == 1);

  std::ofstream(dir / "bad.csv") << "x0,x1,x2,x3,x4,x5,x6,x7,x8,x9,y\n1,2,3,4,5,6,7,8,9,oops,0\n";
  check_error("inspect " + quoted(dir / "model") + " --data " + quoted(dir / "bad.csv"), "bad.csv");
}

TEST_CASE("normlab export --fold-bn, then --unfold, gives back the same weight file") {
  TempDir dir("cli_export");
  train_model(dir);
  const auto fold = run_program(kNormlab + " export " + quoted(dir / "model") + " --fold-bn " +
                                "--out " + quoted(dir / "folded"));
  INFO(fold.err);
  REQUIRE(fold.status == 0);
  Sequential folded = load_model(dir / "folded");
  CHECK(folded.num_layers() == 3);
  const Tensor x = read_csv((dir / "data.csv").string(), {"y"}).x;
  const Tensor want = load_model(dir / "model").predict(x), got = folded.predict(x);
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(std::abs(got[i] - want[i]) <= 1e-5f);

  const auto unfold = run_program(kNormlab + " export " + quoted(dir / "folded") +
                                  " --unfold --out " + quoted(dir / "unfolded"));
  INFO(unfold.err);
  REQUIRE(unfold.status == 0);
  CHECK(read_file_text(dir / "unfolded" / "weights.bin") ==
        read_file_text(dir / "model" / "weights.bin"));

  check_error("export " + quoted(dir / "model") + " --unfold --out " + quoted(dir / "x"),
              "nothing to unfold");
  check_error("export " + quoted(dir / "folded") + " --fold-bn --out " + quoted(dir / "x"),
              "already folded");
  CHECK_FALSE(fs::exists(dir / "x"));
  const auto both = run_program(kNormlab + " export " + quoted(dir / "model") +
                                " --fold-bn --unfold --out " + quoted(dir / "x"));
  CHECK(both.status != 0);
  CHECK(both.status != 2);  // a malformed command line, not a bad file
  check_error("export " + quoted(dir / "model") + " --out " + quoted(dir / "x"),
              "give exactly one of --fold-bn and --unfold");
}

#endif
