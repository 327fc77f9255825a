// The normlab command, run as a user runs it: train from a small config into a folder, inspect,
// evaluate and predict with the saved model, --help for every sub-command, and the exit status
// and message of each kind of mistake (2 and "normlab: error: ..." for a bad config or file).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/blas.h"
#include "data/csv.h"
#include "data/generators.h"
#include "io/model_file.h"
#include "run_program.h"
#include "temp_dir.h"

#ifdef NORMLAB_APPS_DIR

using namespace normlab;
using normlab::testing::kNormlab;
using normlab::testing::lines_starting;
using normlab::testing::read_file_text;
using normlab::testing::run_program;
using normlab::testing::TempDir;
namespace fs = std::filesystem;

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A small Example-3 config: two epochs, validated on a second sample.
const char* kSmallConfig = R"({
  "description": "small test run",
  "model": {"input_dim": 10, "layers": [
    {"class_name": "Dense", "config": {"units": 8}},
    {"class_name": "BatchNormalization", "config": {"momentum": 0.9}},
    {"class_name": "Activation", "config": {"activation": "relu"}},
    {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}]},
  "compile": {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]},
  "data": {"train": {"generator": "imbalanced", "seed": 1},
           "validation": {"generator": "imbalanced", "seed": 2}},
  "fit": {"batch_size": 32, "epochs": 2, "seed": 0}})";

// The generated classification data as a CSV file with normlab train's column names.
void write_classification_csv(const std::string& path, std::uint64_t seed) {
  const Dataset d = make_imbalanced(seed);
  Tensor table(d.size(), 11);
  for (std::size_t i = 0; i < d.size(); ++i) {
    std::copy(d.x.row(i), d.x.row(i) + 10, table.row(i));
    table(i, 10) = d.y(i, 0);
  }
  write_csv(path, {"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "y"}, table);
}

}  // namespace

TEST_CASE("normlab train, inspect, evaluate and predict on a small config") {
  TempDir dir("flow");
  write_text(dir.file("small.json"), kSmallConfig);
  const auto train =
      run_program(kNormlab + " train '" + dir.file("small.json") + "' --out '" + dir.file("model") +
                  "' --verbose 2 --log-csv '" + dir.file("epochs.csv") + "' --log-steps '" +
                  dir.file("steps.csv") + "'");
  INFO(train.out, train.err);
  REQUIRE(train.status == 0);
  CHECK(train.err.empty());
  CHECK(train.out.find("small test run") != std::string::npos);
  CHECK(train.out.find("Total params: 129") != std::string::npos);  // 88 + 32 + 0 + 9
  CHECK(lines_starting(train.out, "Epoch ").size() == 2);           // verbose 2: one per epoch
  CHECK(train.out.find("Evaluation on the validation data (1100 rows") != std::string::npos);
  CHECK(lines_starting(train.out, "minority class 1 (100 of 1100 rows): precision").size() == 1);
  CHECK(lines_starting(train.out, "  moving_variance  [").size() == 1);
  CHECK(train.out.find("Model written to " + fs::absolute(dir.path / "model").string()) !=
        std::string::npos);
  CHECK(fs::exists(dir.path / "model" / "model.json"));
  CHECK(fs::exists(dir.path / "model" / "weights.bin"));
  CHECK(read_csv(dir.file("epochs.csv"), {"epoch"}).size() == 2);
  CHECK(read_csv(dir.file("steps.csv"), {}).size() == 2 * 35);  // 1100 rows in batches of 32

  const auto inspect = run_program(kNormlab + " inspect '" + dir.file("model") + "'");
  INFO(inspect.err);
  REQUIRE(inspect.status == 0);
  CHECK(inspect.out.find("batch_normalization (BatchNormalization") != std::string::npos);
  for (const char* name : {"  gamma:", "  beta:", "  moving_mean:", "  moving_variance:"})
    CHECK(lines_starting(inspect.out, name).size() == 1);
  CHECK(lines_starting(inspect.out, "Label columns: y").size() == 1);

  write_classification_csv(dir.file("eval.csv"), 7);
  const auto evaluate = run_program(kNormlab + " evaluate '" + dir.file("model") + "' --data '" +
                                    dir.file("eval.csv") + "'");
  INFO(evaluate.err);
  REQUIRE(evaluate.status == 0);
  CHECK(lines_starting(evaluate.out, "loss: ").size() == 1);
  CHECK(evaluate.out.find(" - accuracy: ") != std::string::npos);

  // predict skips the label column it finds in the file; its outputs are the saved model's, to
  // the bit on one backend (two processes' probes may choose different ones).
  select_gemm_backend("openblas", "the test");
  const auto predict = run_program(kNormlab + " predict '" + dir.file("model") + "' --input '" +
                                   dir.file("eval.csv") + "' --output '" + dir.file("pred.csv") +
                                   "' --blas openblas");
  INFO(predict.err);
  REQUIRE(predict.status == 0);
  CHECK(csv_header(dir.file("pred.csv")) == std::vector<std::string>{"y"});
  const Dataset predicted = read_csv(dir.file("pred.csv"), {});
  Sequential model = load_model(dir.path / "model");
  const Tensor expected = model.predict(read_csv(dir.file("eval.csv"), {"y"}).x);
  CHECK(predicted.x == expected);  // written in the shortest form that reads back exactly

  const auto to_stdout = run_program(kNormlab + " predict '" + dir.file("model") + "' --input '" +
                                     dir.file("eval.csv") + "' --blas openblas");
  REQUIRE(to_stdout.status == 0);
  CHECK(to_stdout.out == read_file_text(dir.path / "pred.csv"));
}

TEST_CASE("normlab train: the same seed gives the same bits, another seed other weights") {
  // On one named backend: two processes' probes may choose different ones (performance.md).
  TempDir dir("seeds");
  write_text(dir.file("small.json"), kSmallConfig);
  const std::string train =
      kNormlab + " train '" + dir.file("small.json") + "' --verbose 0 --blas openblas --out '";
  REQUIRE(run_program(train + dir.file("a") + "'").status == 0);
  REQUIRE(run_program(train + dir.file("b") + "'").status == 0);
  REQUIRE(run_program(train + dir.file("c") + "' --seed 5 --epochs 1").status == 0);
  const std::string a = read_file_text(dir.path / "a" / "weights.bin");
  CHECK(a.size() == 129 * 4);
  CHECK(a == read_file_text(dir.path / "b" / "weights.bin"));
  CHECK(a != read_file_text(dir.path / "c" / "weights.bin"));
}

TEST_CASE("normlab --help and --help of every sub-command") {
  const auto top = run_program(kNormlab + " --help");
  CHECK(top.status == 0);
  for (const char* command : {"train", "evaluate", "predict", "inspect"})
    CHECK(top.out.find(command) != std::string::npos);
  const std::vector<std::pair<std::string, std::vector<std::string>>> options = {
      {"train",
       {"--out", "--epochs", "--seed", "--verbose", "--threads", "--log-csv", "--log-steps"}},
      {"evaluate", {"--data", "--label-columns", "--batch-size"}},
      {"predict", {"--input", "--output", "--batch-size"}},
      {"inspect", {"MODEL_DIR", "model_dir"}}};
  for (const auto& [command, names] : options) {
    const auto help = run_program(kNormlab + " " + command + " --help");
    INFO(command, help.out);
    CHECK(help.status == 0);
    std::size_t found = 0;
    for (const auto& name : names) found += help.out.find(name) != std::string::npos;
    CHECK(found >= (command == "inspect" ? 1u : names.size()));
  }
  CHECK(run_program(kNormlab + " --version").out.rfind("normlab ", 0) == 0);
}

TEST_CASE("normlab: mistakes give a message and a non-zero status, never a crash") {
  TempDir dir("errors");
  nlohmann::json bad = nlohmann::json::parse(kSmallConfig);
  bad["model"]["layers"][1]["config"]["momentum"] = 1.5;
  write_text(dir.file("bad.json"), bad.dump());
  const auto bad_config = run_program(kNormlab + " train '" + dir.file("bad.json") + "'");
  CHECK(bad_config.status == 2);
  CHECK(bad_config.err == "normlab: error: " + dir.file("bad.json") +
                              ": model.layers[1].config.momentum: expected a number in [0, 1), "
                              "got 1.5\n");
  CHECK(bad_config.out.empty());

  const auto missing = run_program(kNormlab + " train '" + dir.file("missing.json") + "'");
  CHECK(missing.status == 2);
  CHECK(missing.err == "normlab: error: " + dir.file("missing.json") +
                           ": cannot read the config file (No such file or directory)\n");

  const auto no_model = run_program(kNormlab + " inspect '" + dir.file("no_model") + "'");
  CHECK(no_model.status == 2);
  CHECK(no_model.err.rfind("normlab: error: ", 0) == 0);

  // A model and data that do not fit each other.
  write_text(dir.file("small.json"), kSmallConfig);
  REQUIRE(run_program(kNormlab + " train '" + dir.file("small.json") + "' --verbose 0 --epochs 0 " +
                      "--out '" + dir.file("model") + "'")
              .status == 0);
  write_text(dir.file("narrow.csv"), "x0,x1,y\n1,2,0\n");
  const auto narrow = run_program(kNormlab + " evaluate '" + dir.file("model") + "' --data '" +
                                  dir.file("narrow.csv") + "'");
  CHECK(narrow.status == 2);
  CHECK(narrow.err.find("the feature columns are x0, x1; the model in") != std::string::npos);
  write_text(dir.file("ragged.csv"), "x0,x1,x2,x3,x4,x5,x6,x7,x8,x9,y\n1,2,3\n");
  const auto ragged = run_program(kNormlab + " predict '" + dir.file("model") + "' --input '" +
                                  dir.file("ragged.csv") + "'");
  CHECK(ragged.status == 2);
  CHECK(ragged.err.find("line 2") != std::string::npos);

  // Command-line mistakes are CLI11's: a usage message and its own non-zero status.
  const auto unknown = run_program(kNormlab + " train --epochz 3");
  CHECK(unknown.status != 0);
  CHECK(unknown.status != 2);
  CHECK(unknown.err.find("--epochz") != std::string::npos);
  CHECK(run_program(kNormlab).status != 0);  // no sub-command
  CHECK(run_program(kNormlab + " train --verbose 3").status != 0);
  CHECK(run_program(kNormlab + " evaluate '" + dir.file("model") + "'").status != 0);  // no --data
}

TEST_CASE("normlab says which GEMM runs; a GEMM backend it does not have is an error (exit 2)") {
  const auto version = run_program(kNormlab + " --version");
  INFO(version.out, version.err);
  REQUIRE(version.status == 0);
  CHECK(version.out.rfind("normlab ", 0) == 0);
  CHECK(lines_starting(version.out, "GEMM: ").size() == 1);
  CHECK(version.out.find(" GFLOP/s") != std::string::npos);
  CHECK(version.out.find(" on one thread; probe ") != std::string::npos);

  TempDir dir("blas");
  write_text(dir.file("small.json"), kSmallConfig);
  const std::string train = kNormlab + " train '" + dir.file("small.json") +
                            "' --verbose 0 --epochs 1 --out '" + dir.file("model") + "'";
  const auto forced = run_program(train + " --blas openblas");
  INFO(forced.out, forced.err);
  REQUIRE(forced.status == 0);
  const auto gemm = lines_starting(forced.out, "GEMM: ");
  REQUIRE(gemm.size() == 1);
  CHECK(gemm[0].rfind("GEMM: openblas (OpenBLAS ", 0) == 0);
  CHECK(gemm[0].find("chosen by --blas") != std::string::npos);
  const auto inspect = run_program(kNormlab + " inspect '" + dir.file("model") + "'");
  CHECK(lines_starting(inspect.out, "GEMM: ").size() == 1);

  // A resumed run continues on the checkpoint's backend when none is named.
  const std::string checkpointed = kNormlab + " train '" + dir.file("small.json") +
                                   "' --verbose 0 --out '" + dir.file("resumed") +
                                   "' --checkpoint '" + dir.file("ckpt") + "'";
  REQUIRE(run_program(checkpointed + " --epochs 1 --blas openblas").status == 0);
  const auto resumed = run_program(checkpointed + " --epochs 2 --resume");
  INFO(resumed.out, resumed.err);
  REQUIRE(resumed.status == 0);
  const auto resumed_gemm = lines_starting(resumed.out, "GEMM: openblas (");
  REQUIRE(resumed_gemm.size() == 1);
  CHECK(resumed_gemm[0].find("training.json (run.gemm)") != std::string::npos);

  const std::string expected =
      "names the GEMM backend 'nosuch', which this build does not have; expected one of: "
      "openblas, ";
  const auto bad_flag = run_program(train + " --blas nosuch");
  CHECK(bad_flag.status == 2);
  CHECK(bad_flag.err.rfind("normlab: error: --blas " + expected, 0) == 0);
  CHECK(bad_flag.out.empty());
  const auto bad_env =
      run_program("NORMLAB_BLAS=nosuch " + kNormlab + " inspect '" + dir.file("model") + "'");
  CHECK(bad_env.status == 2);
  CHECK(bad_env.err.rfind("normlab: error: NORMLAB_BLAS " + expected, 0) == 0);
}

#else
TEST_CASE("normlab command" * doctest::skip()) {
  MESSAGE("the programs are not built (NORMLAB_BUILD_APPS=OFF)");
}
#endif
