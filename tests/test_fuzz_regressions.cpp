// Inputs the fuzz harnesses of tests/fuzz/ found crashing, each fed through the public API it
// crashed: every one must now end in a clean normlab::Error that says what is wrong.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "io/model_file.h"
#include "io/train_config.h"

using namespace normlab;
namespace fs = std::filesystem;

// nlohmann reports a number beyond double's range (1e999) as json::out_of_range (406), not as
// a parse_error: both readers of JSON text once let it escape and abort the program.
const std::string kHugeUnits = R"({"model": {"input_dim": 2, "layers": [{"class_name": "Dense",)"
                               R"( "config": {"units": 1e9992}}]}})";

TEST_CASE("fuzz regression: a config number beyond double's range is an Error") {
  CHECK_THROWS_WITH_AS(parse_train_config(kHugeUnits, ".", "cfg.json"),
                       "cfg.json: not valid JSON: number overflow parsing '1e9992'", Error);
}

TEST_CASE("fuzz regression: a model.json number beyond double's range is an Error") {
  const fs::path dir =
      fs::temp_directory_path() / ("normlab_fuzz_regression_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "model.json") << R"({"format": "layers-model", "modelTopology": 1e999})";
  std::ofstream(dir / "weights.bin");
  CHECK_THROWS_WITH_AS(load_model(dir),
                       doctest::Contains("model.json: not valid JSON: [json.exception.out_of_range."
                                         "406] number overflow parsing '1e999'"),
                       Error);
  fs::remove_all(dir);
}
