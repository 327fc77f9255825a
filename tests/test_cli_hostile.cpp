// The normlab command on hostile model files and data files: `normlab: error: ...` naming the
// file and the field or line, exit status 2, and no output file (predictions, a trained model)
// left behind.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "io/model_file.h"
#include "layers/dense.h"
#include "optim/adam.h"
#include "run_program.h"
#include "temp_dir.h"

#ifdef NORMLAB_APPS_DIR

using namespace normlab;
using normlab::testing::kNormlab;
using normlab::testing::quoted;
using normlab::testing::run_program;
using normlab::testing::TempDir;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A 1 GiB address-space limit, under which a 2 GiB allocation fails. AddressSanitizer reserves
// terabytes of address space for its shadow memory, so a sanitized build runs without it.
#ifdef __SANITIZE_ADDRESS__
const std::string kAddressLimit;
#else
const std::string kAddressLimit = "ulimit -v 1048576; ";
#endif

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Dense(1, sigmoid) on features a, b with label y, as `normlab train` records them.
void save_model_of_ab(const fs::path& dir) {
  Sequential model(2, 1);
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  save_model(model, dir, {{"feature_columns", {"a", "b"}}, {"label_columns", {"y"}}});
}

// The command failed as a bad input must: status 2, one error line holding `message`.
void check_refused(const testing::ProgramResult& r, const std::string& message) {
  CHECK(r.status == 2);
  CHECK(r.err.starts_with("normlab: error: "));
  CHECK(r.err.find(message) != std::string::npos);
  CHECK(r.out.empty());
}

}  // namespace

TEST_CASE("normlab predict, evaluate, inspect: a hostile model directory exits 2") {
  TempDir dir("cli_hostile_model");
  write_text(dir / "data.csv", "a,b,y\n1,2,0\n3,4,1\n");
  const fs::path out = dir / "predictions.csv";

  const fs::path short_weights = dir / "short";
  save_model_of_ab(short_weights);
  fs::resize_file(short_weights / "weights.bin", 4);
  check_refused(run_program(kNormlab + " predict " + quoted(short_weights) + " --input " +
                            quoted(dir / "data.csv") + " --output " + quoted(out)),
                (short_weights / "weights.bin").string() +
                    ": 4 bytes, but model.json's weightsManifest[0] lists 3 float32 values (12 "
                    "bytes)");
  CHECK_FALSE(fs::exists(out));

  const fs::path escaping = dir / "escaping";
  save_model_of_ab(escaping);
  json m = json::parse(read_text(escaping / "model.json"));
  m["weightsManifest"][0]["paths"][0] = "../../etc/passwd";
  write_text(escaping / "model.json", m.dump());
  check_refused(run_program(kNormlab + " evaluate " + quoted(escaping) + " --data " +
                            quoted(dir / "data.csv")),
                (escaping / "model.json").string() +
                    ": weightsManifest[0].paths[0]: expected the name of a file in the model's "
                    "directory (no '/', no \"..\"), got \"../../etc/passwd\"");

  const fs::path nested = dir / "nested";
  fs::create_directories(nested);
  write_text(nested / "model.json", std::string(1000000, '[') + std::string(1000000, ']'));
  check_refused(
      run_program(kNormlab + " inspect " + quoted(nested)),
      (nested / "model.json").string() + ": arrays and objects nested more than 64 levels deep");

  // A 16000 x 16000 kernel would take 2 GiB with its gradient; under a 1 GiB address-space
  // limit an attempt to allocate it would end in std::bad_alloc (status 1), not status 2.
  const fs::path huge = dir / "huge";
  save_model_of_ab(huge);
  m = json::parse(read_text(huge / "model.json"));
  json& config = m["modelTopology"]["config"]["layers"][0]["config"];
  config["batch_input_shape"] = {nullptr, 16000};
  config["units"] = 16000;
  write_text(huge / "model.json", m.dump());
  check_refused(run_program(kAddressLimit + kNormlab + " inspect " + quoted(huge)),
                (huge / "model.json").string() +
                    ": modelTopology.config.layers[0]: its kernel of 16000 x 16000 floats");
}

TEST_CASE("normlab predict, evaluate, train: a hostile CSV exits 2 and writes nothing") {
  TempDir dir("cli_hostile_data");
  const fs::path model = dir / "model";
  save_model_of_ab(model);
  const fs::path out = dir / "predictions.csv";

  write_text(dir / "nan.csv", "a,b,y\n1,2,0\n3,nan,1\n");
  check_refused(run_program(kNormlab + " predict " + quoted(model) + " --input " +
                            quoted(dir / "nan.csv") + " --output " + quoted(out)),
                "CSV '" + (dir / "nan.csv").string() +
                    "', line 3, column 2 'b': 'nan' is not a finite number");
  CHECK_FALSE(fs::exists(out));

  write_text(dir / "labels.csv", "a,b,y\n1,2,0\n\n3,4,2\n");
  check_refused(run_program(kNormlab + " evaluate " + quoted(model) + " --data " +
                            quoted(dir / "labels.csv")),
                "CSV '" + (dir / "labels.csv").string() +
                    "', line 4, column 3 'y': binary_crossentropy: target is 2; expected "
                    "a value in [0, 1]");

  // train: the refused label stops it before the first epoch; no model folder appears.
  write_text(
      dir / "cfg.json",
      json{{"model",
            {{"input_dim", 2},
             {"layers",
              {{{"class_name", "Dense"}, {"config", {{"units", 1}, {"activation", "sigmoid"}}}}}}}},
           {"compile", {{"optimizer", "sgd"}, {"loss", "binary_crossentropy"}}},
           {"data", {{"train", {{"csv", "labels.csv"}, {"label_columns", {"y"}}}}}}}
          .dump());
  const fs::path trained = dir / "trained";
  check_refused(
      run_program(kNormlab + " train " + quoted(dir / "cfg.json") + " --out " + quoted(trained)),
      (dir / "cfg.json").string() + ": data.train: CSV '" + (dir / "labels.csv").string() +
          "', line 4, column 3 'y': binary_crossentropy: target is 2");
  CHECK_FALSE(fs::exists(trained));
}

#else
TEST_CASE("normlab command on hostile input" * doctest::skip()) {
  MESSAGE("the programs are not built (NORMLAB_BUILD_APPS=OFF)");
}
#endif
