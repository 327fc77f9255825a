// Model files from untrusted places: each hostile model.json or weight file is refused with a
// normlab::Error naming the file, the field and what was expected and found, before normlab
// allocates from a size field it has not checked against the weight files. The cases here add
// to test_model_file.cpp's "every malformed field" (paths out of the directory, dtypes, shapes,
// file lengths, missing and duplicate weights), and run the in-memory loader the fuzzers use.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"
#include "error_of.h"
#include "io/model_file.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "model_file_cases.h"
#include "optim/adam.h"
#include "temp_dir.h"

using namespace normlab;
using normlab::testing::TempDir;
namespace fs = std::filesystem;
using json = nlohmann::json;
using normlab::testing::error_of;

namespace {

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

// Dense(3) -> BatchNormalization -> ReLU -> Dense(1, sigmoid) on 4 inputs: 15 + 12 + 4 = 31
// floats in weights.bin.
void save_small_model(const fs::path& dir) {
  Sequential model(4, 5);
  model.add(Dense(3));
  model.add(BatchNormalization());
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  save_model(model, dir);
}

// `depth` arrays, one inside the other.
std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

using Case = testing::ModelFileCase;

// Each case on a copy of a good saved model.
void check_cases(const std::string& test, const std::vector<Case>& cases) {
  TempDir root("hostile_model_" + test);
  save_small_model(root / "good");
  testing::check_model_file_cases(root.path, cases);
}

json& layer_config(json& m, int i) {
  return m["modelTopology"]["config"]["layers"][i]["config"];
}
json& weight(json& m, int i) {
  return m["weightsManifest"][0]["weights"][i];
}

}  // namespace

TEST_CASE("hostile model.json: not JSON, truncated, or not an object") {
  check_cases(
      "text",
      {{"empty", nullptr, [](const fs::path& d) { write_text(d / "model.json", ""); },
        "not valid JSON: [json.exception.parse_error.101] parse error at line 1, column 1: "
        "syntax error while parsing value - unexpected end of input; expected '[', '{', or a "
        "literal"},
       {"truncated", nullptr,
        [](const fs::path& d) {
          const std::string text = read_text(d / "model.json");
          write_text(d / "model.json", text.substr(0, text.size() / 2));
        },
        "not valid JSON: [json.exception.parse_error.101] parse error at line 1"},
       {"binary", nullptr,
        [](const fs::path& d) {
          write_text(d / "model.json", std::string("\x89PNG\r\n\x1a\n", 8));
        },
        "not valid JSON: [json.exception.parse_error.101] parse error at line 1, column 1"},
       // nlohmann reports it as out_of_range, not as a parse error.
       {"number beyond double", nullptr,
        [](const fs::path& d) {
          write_text(d / "model.json", "{\"modelTopology\": {\"x\": 1e999}}");
        },
        "not valid JSON: [json.exception.out_of_range.406] number overflow parsing '1e999'"},
       {"array", nullptr, [](const fs::path& d) { write_text(d / "model.json", "[1, 2]"); },
        "expected a JSON object {\"modelTopology\": {...}, \"weightsManifest\": [...], ...}, got "
        "array [1,2]"},
       // A sparse file: its size is refused before a byte of it is read.
       {"beyond 64 MiB", nullptr,
        [](const fs::path& d) {
          fs::resize_file(d / "model.json", (std::uintmax_t{64} << 20) + 1);
        },
        "67108865 bytes; normlab reads model.json files of at most 67108864 bytes"},
       {"directory", nullptr,
        [](const fs::path& d) {
          fs::remove(d / "model.json");
          fs::create_directory(d / "model.json");
        },
        "cannot read it: Is a directory"}});
}

TEST_CASE("hostile model.json: nesting beyond 64 levels is refused while parsing") {
  // Deep enough to overflow the stack if a value this deep were copied or printed.
  check_cases("nesting",
              {{"deep metadata", [](json& m) { m["userDefinedMetadata"]["note"] = json::array(); },
                [](const fs::path& d) {
                  std::string text = read_text(d / "model.json");
                  const std::string slot = "\"note\":[]";
                  text.replace(text.find(slot), slot.size(), "\"note\":" + nested_arrays(200000));
                  write_text(d / "model.json", text);
                },
                "arrays and objects nested more than 64 levels deep"},
               {"deep topology", nullptr,
                [](const fs::path& d) {
                  write_text(d / "model.json", "{\"modelTopology\": " + nested_arrays(65) + "}");
                },
                "arrays and objects nested more than 64 levels deep"}});
}

TEST_CASE("hostile model.json: fields of the wrong type") {
  check_cases(
      "types",
      {{"topology number", [](json& m) { m["modelTopology"] = 5; }, nullptr,
        "modelTopology: expected a model topology {...}, got 5"},
       {"manifest object", [](json& m) { m["weightsManifest"] = json::object(); }, nullptr,
        "weightsManifest: expected an array of weight groups [{\"paths\": [...], \"weights\": "
        "[...]}], got object {}"},
       {"path number", [](json& m) { m["weightsManifest"][0]["paths"] = {7}; }, nullptr,
        "weightsManifest[0].paths[0]: expected the name of a file in the model's directory (no "
        "'/', no \"..\"), got 7"},
       {"no paths", [](json& m) { m["weightsManifest"][0]["paths"] = json::array(); }, nullptr,
        "weightsManifest[0].paths: expected a non-empty array of file names, got array []"},
       {"weights string", [](json& m) { m["weightsManifest"][0]["weights"] = "all"; }, nullptr,
        "weightsManifest[0].weights: expected an array of {\"name\", \"shape\", \"dtype\"}, got "
        "\"all\""},
       {"name number", [](json& m) { weight(m, 0)["name"] = 5; }, nullptr,
        "weightsManifest[0].weights[0].name: expected a string, got 5"},
       {"no name", [](json& m) { weight(m, 0).erase("name"); }, nullptr,
        "weightsManifest[0].weights[0].name: expected a weight name such as \"dense/kernel\", "
        "got nothing"},
       {"shape string", [](json& m) { weight(m, 0)["shape"] = "4,3"; }, nullptr,
        "weightsManifest[0].weights[0].shape: expected an array of positive integers, got "
        "\"4,3\""},
       {"no shape", [](json& m) { weight(m, 0).erase("shape"); }, nullptr,
        "weightsManifest[0].weights[0].shape: expected an array of positive integers, got "
        "nothing"},
       {"units string", [](json& m) { layer_config(m, 0)["units"] = "3"; }, nullptr,
        "modelTopology.config.layers[0].config.units: expected an integer in [1, 16777216], got "
        "\"3\""},
       {"training config list", [](json& m) { m["trainingConfig"] = json::array(); }, nullptr,
        "trainingConfig: expected a Keras training config {...} or null, got array []"}});
}

TEST_CASE("hostile model.json: sizes that are negative, zero, overflowing or absurd") {
  check_cases(
      "sizes",
      {{"shape overflowing size_t",
        [](json& m) {
          weight(m, 0)["shape"] = {std::uint64_t{1} << 32, std::uint64_t{1} << 32};
        },
        nullptr,
        "weightsManifest[0].weights[0].shape: array [4294967296,4294967296] holds more than "
        "268435456 values, the most normlab reads"},
       {"shape beyond 64 bits",
        [](json& m) {
          weight(m, 0)["shape"] = {1e30, 3};
        },
        nullptr,
        "weightsManifest[0].weights[0].shape: expected an array of positive integers, got array "
        "[1e+30,3]"},
       {"dtype int32", [](json& m) { weight(m, 0)["dtype"] = "int32"; }, nullptr,
        "weightsManifest[0].weights[0].dtype: expected one of \"float32\", got \"int32\""},
       {"negative units", [](json& m) { layer_config(m, 0)["units"] = -3; }, nullptr,
        "modelTopology.config.layers[0].config.units: expected an integer in [1, 16777216], got "
        "-3"},
       {"zero units", [](json& m) { layer_config(m, 0)["units"] = 0; }, nullptr,
        "modelTopology.config.layers[0].config.units: expected an integer in [1, 16777216], got "
        "0"},
       {"absurd units", [](json& m) { layer_config(m, 0)["units"] = std::uint64_t{1} << 40; },
        nullptr,
        "modelTopology.config.layers[0].config.units: expected an integer in [1, 16777216], got "
        "1099511627776"},
       {"zero input width",
        [](json& m) {
          layer_config(m, 0)["batch_input_shape"] = {nullptr, 0};
        },
        nullptr,
        "modelTopology.config.layers[0].config.batch_input_shape: expected [null, N] with N in "
        "[1, 16777216], one feature dimension (normlab models take rows of N features), got "
        "array [null,0]"},
       {"input width beyond 64 bits",
        [](json& m) {
          layer_config(m, 0)["batch_input_shape"] = {nullptr, ~std::uint64_t{0}};
        },
        nullptr,
        "modelTopology.config.layers[0].config.batch_input_shape: expected [null, N] with N in "
        "[1, 16777216]"},
       // 16000 x 16000 floats (1 GiB, and as much again for its gradient) is within the
       // topology's own bound; the 31 floats of the manifest refuse it before it is allocated.
       {"kernel beyond the manifest",
        [](json& m) {
          layer_config(m, 0)["batch_input_shape"] = {nullptr, 16000};
          layer_config(m, 0)["units"] = 16000;
        },
        nullptr,
        "modelTopology.config.layers[0]: its kernel of 16000 x 16000 floats takes the model's "
        "kernels to 256000000 floats, but the weights hold 31 in all"},
       {"unknown layer",
        [](json& m) { m["modelTopology"]["config"]["layers"][2]["class_name"] = "Conv2D"; },
        nullptr,
        "modelTopology.config.layers[2].config: unknown layer class 'Conv2D'; expected one of"},
       {"no layers", [](json& m) { m["modelTopology"]["config"]["layers"] = json::array(); },
        nullptr, "modelTopology.config.layers: expected a non-empty array of layers"}});
}

TEST_CASE("hostile weight files: not regular files, or leading out of the directory") {
  check_cases(
      "files",
      {{"directory", nullptr,
        [](const fs::path& d) {
          fs::remove(d / "weights.bin");
          fs::create_directory(d / "weights.bin");
        },
        "/weights.bin: not a regular file"},
       // A FIFO would block a reader forever; it is refused before it is opened.
       {"fifo", nullptr,
        [](const fs::path& d) {
          fs::remove(d / "weights.bin");
          REQUIRE(::mkfifo((d / "weights.bin").c_str(), 0600) == 0);
        },
        "/weights.bin: not a regular file"},
       {"link to an endless device", nullptr,
        [](const fs::path& d) {
          fs::remove(d / "weights.bin");
          fs::create_symlink("/dev/zero", d / "weights.bin");
        },
        "/weights.bin: a symbolic link leading out of the model's directory (to /dev/zero)"},
       {"missing shard",
        [](json& m) { m["weightsManifest"][0]["paths"].push_back("weights2.bin"); }, nullptr,
        "/weights2.bin: missing (model.json lists it in weightsManifest)"}});
}

TEST_CASE("load_model_from_memory: the same model as from disk, and the same refusals") {
  TempDir root("hostile_model_memory");
  save_small_model(root / "good");
  const std::string model_json = read_text(root / "good" / "model.json");
  const std::string weights = read_text(root / "good" / "weights.bin");
  const std::map<std::string, std::string_view> files = {{"weights.bin", weights}};

  Sequential from_disk = load_model(root / "good");
  Sequential from_memory = load_model_from_memory(model_json, files);
  const Tensor x{{0.5f, -1.0f, 2.0f, 0.25f}, {1.0f, 0.0f, -0.5f, 3.0f}};
  CHECK(from_memory.predict(x) == from_disk.predict(x));
  CHECK(from_memory.loss().name() == "binary_crossentropy");

  const auto fails = [&](std::string_view text,
                         const std::map<std::string, std::string_view>& weight_files) {
    return error_of([&] { load_model_from_memory(text, weight_files); });
  };
  CHECK(fails(model_json, {}) == "weights.bin: missing (model.json lists it in weightsManifest)");
  CHECK(fails(model_json, {{"weights.bin", std::string_view(weights).substr(4)}}) ==
        "weights.bin: 120 bytes, but model.json's weightsManifest[0] lists 31 float32 values "
        "(124 bytes)");
  CHECK(fails(model_json.substr(0, 100), files).starts_with("model.json: not valid JSON: "));
  CHECK(fails(nested_arrays(100000), files) ==
        "model.json: arrays and objects nested more than 64 levels deep");
  json renamed = json::parse(model_json);
  renamed["weightsManifest"][0]["paths"][0] = "../weights.bin";
  CHECK(
      fails(renamed.dump(), files)
          .starts_with(
              "model.json: weightsManifest[0].paths[0]: expected the name of a file in the model's "
              "directory (no '/', no \"..\"), got \"../weights.bin\""));
}
