// Data files from spreadsheets and hand edits, bound to a model by a training config: every bad
// cell or label is an Error naming the config, the CSV file, the line and the column, raised
// when the config is read, before any training. Cell-level reading errors are unit-tested in
// test_csv.cpp; here they are seen through the config, and labels meet the loss's rules.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "data/csv.h"
#include "error_of.h"
#include "io/train_config.h"
#include "model/losses.h"
#include "temp_dir.h"

using namespace normlab;
using normlab::testing::error_of;
using normlab::testing::TempDir;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

// A config training Dense(outputs, activation) on DIR/train.csv with `labels`, written to
// DIR/cfg.json; `validation` (CSV text), when given, becomes DIR/val.csv.
struct DataCase {
  std::string train;
  std::string loss = "binary_crossentropy";
  std::size_t outputs = 1;
  std::vector<std::string> labels = {"y"};
  std::string validation;
};

// The message load_train_config throws for the case, with DIR written as "DIR".
std::string config_error(const DataCase& c) {
  TempDir dir("hostile_data");
  write_text(dir / "train.csv", c.train);
  const std::string activation = c.loss == "mean_squared_error" ? "linear"
                                 : c.outputs == 1               ? "sigmoid"
                                                                : "softmax";
  json config = {{"model",
                  {{"input_dim", 2},
                   {"layers",
                    {{{"class_name", "Dense"},
                      {"config", {{"units", c.outputs}, {"activation", activation}}}}}}}},
                 {"compile", {{"optimizer", "sgd"}, {"loss", c.loss}}},
                 {"data", {{"train", {{"csv", "train.csv"}, {"label_columns", c.labels}}}}},
                 {"fit", {{"epochs", 1}, {"verbose", 0}}}};
  if (!c.validation.empty()) {
    write_text(dir / "val.csv", c.validation);
    config["data"]["validation"] = {{"csv", "val.csv"}};
  }
  write_text(dir / "cfg.json", config.dump());
  std::string message = error_of([&] { load_train_config(dir / "cfg.json"); });
  for (std::size_t at; (at = message.find(dir.path.string())) != std::string::npos;)
    message.replace(at, dir.path.string().size(), "DIR");
  return message;
}

}  // namespace

TEST_CASE("hostile CSV cells through a training config: file, line and column named") {
  const auto cell_error = [](const std::string& cell) {
    return config_error({.train = "a,b,y\n1,2,0\n3," + cell + ",1\n"});
  };
  const std::string at =
      "DIR/cfg.json: data.train.csv: CSV 'DIR/train.csv', line 3, column 2 'b': ";
  CHECK(cell_error("nan") == at + "'nan' is not a finite number; NaN and infinite values are not "
                                  "allowed, expected a finite float");
  CHECK(cell_error("inf") == at + "'inf' is not a finite number; NaN and infinite values are not "
                                  "allowed, expected a finite float");
  CHECK(cell_error("1e39") == at + "'1e39' is out of the range of float32; expected a magnitude of "
                                   "at most 3.4028235e+38 (and, if tiny, not below 1e-308)");
  CHECK(cell_error("N/A") == at + "'N/A' is not a number; expected a decimal float such as 1.5e-3");
  CHECK(cell_error("") == at + "empty cell; expected a number");
}

TEST_CASE("hostile CSV files through a training config: shape of the file") {
  const std::string file = "DIR/cfg.json: data.train.csv: CSV 'DIR/train.csv'";
  CHECK(config_error({.train = ""}) ==
        file + " is empty; expected a header line and at least one data row");
  CHECK(config_error({.train = "a,b,y\n\n"}) ==
        file + " has a header (line 1) but no data rows; expected at least one data row");
  CHECK(config_error({.train = "a,b,y\n1,2,0\n1,2\n"}) ==
        file + ", line 3: 2 fields, expected 3 (as in the header)");
  CHECK(config_error({.train = "a,b,y\n1,2,0,9\n"}) ==
        file + ", line 2: 4 fields, expected 3 (as in the header)");
  CHECK(config_error({.train = "a,b,label\n1,2,0\n"}) ==
        file +
            ", line 1: label column 'y' is not in the header; the columns are 'a', 'b', "
            "'label'");
}

TEST_CASE("hostile training config: nesting beyond 64 levels is refused while parsing") {
  // Deep enough to overflow the stack if a value this deep were copied or printed.
  const std::string deep =
      "{\"model\": " + std::string(200000, '[') + std::string(200000, ']') + "}";
  CHECK_THROWS_WITH_AS(parse_train_config(deep, ".", "deep.json"),
                       "deep.json: arrays and objects nested more than 64 levels deep", Error);
}

TEST_CASE("labels binary_crossentropy refuses: file, line (blank lines counted) and column") {
  // Line 5: the blank line 3 counts, as an editor shows it.
  CHECK(config_error({.train = "a,y,b\n1,0,2\n\n3,1,4\n5,2,6\n"}) ==
        "DIR/cfg.json: data.train: CSV 'DIR/train.csv', line 5, column 2 'y': "
        "binary_crossentropy: target is 2; expected a value in [0, 1]");
  CHECK(config_error({.train = "a,b,y\n1,2,-0.5\n"}) ==
        "DIR/cfg.json: data.train: CSV 'DIR/train.csv', line 2, column 3 'y': "
        "binary_crossentropy: target is -0.5; expected a value in [0, 1]");
  // Probabilities in [0, 1] are labels binary_crossentropy takes (Keras' soft labels).
  CHECK(config_error({.train = "a,b,y\n1,2,0.25\n3,4,1\n"}) == "no error");
  // The validation file is checked the same way, before training too.
  CHECK(config_error({.train = "a,b,y\n1,2,0\n", .validation = "a,b,y\n1,2,1\n3,4,7\n"}) ==
        "DIR/cfg.json: data.validation: CSV 'DIR/val.csv', line 3, column 3 'y': "
        "binary_crossentropy: target is 7; expected a value in [0, 1]");
}

TEST_CASE("labels sparse_categorical_crossentropy refuses: integers in [0, classes)") {
  const auto sparse = [](const std::string& label) {
    return config_error({.train = "a,b,y\n1,2,0\n3,4," + label + "\n",
                         .loss = "sparse_categorical_crossentropy",
                         .outputs = 3});
  };
  const std::string at = "DIR/cfg.json: data.train: CSV 'DIR/train.csv', line 3, column 3 'y': ";
  CHECK(sparse("3") == at + "sparse_categorical_crossentropy: target is 3; expected an "
                            "integer class index in [0, 2]");
  CHECK(sparse("-1") == at + "sparse_categorical_crossentropy: target is -1; expected an "
                             "integer class index in [0, 2]");
  CHECK(sparse("1.5") == at + "sparse_categorical_crossentropy: target is 1.5; expected an "
                              "integer class index in [0, 2]");
  CHECK(sparse("2") == "no error");
}

TEST_CASE("labels categorical_crossentropy refuses: one-hot rows or probabilities summing to 1") {
  const auto one_hot = [](const std::string& row) {
    return config_error({.train = "a,b,c0,c1,c2\n1,2,0,1,0\n3,4," + row + "\n",
                         .loss = "categorical_crossentropy",
                         .outputs = 3,
                         .labels = {"c0", "c1", "c2"}});
  };
  const std::string at =
      "DIR/cfg.json: data.train: CSV 'DIR/train.csv', line 3, columns 3 'c0', 4 'c1', 5 'c2': ";
  CHECK(one_hot("1,1,0") == at + "categorical_crossentropy: target sums to 2; expected a "
                                 "one-hot row (or class probabilities summing to 1)");
  CHECK(one_hot("0,0,0") == at + "categorical_crossentropy: target sums to 0; expected a "
                                 "one-hot row (or class probabilities summing to 1)");
  CHECK(one_hot("0,2,-1") ==
        "DIR/cfg.json: data.train: CSV 'DIR/train.csv', line 3, column 4 'c1': "
        "categorical_crossentropy: target is 2; expected a value in [0, 1]");
  CHECK(one_hot("0.2,0.3,0.5") == "no error");
  CHECK(one_hot("0.333,0.333,0.333") == "no error");  // rounded soft labels
  // One label column for three outputs is a shape mismatch, not a cell.
  CHECK(config_error({.train = "a,b,y\n1,2,0\n", .loss = "categorical_crossentropy", .outputs = 3})
            .starts_with("DIR/cfg.json: data.train: categorical_crossentropy: targets of shape "
                         "(1, 1) do not fit 3 model outputs"));
}

TEST_CASE("TargetError and CsvOrigin: the place of a refused target") {
  auto bce = make_loss("binary_crossentropy");
  try {
    bce->check_targets(Tensor{{0}, {1}, {3}}, 1);
    FAIL("no error");
  } catch (const TargetError& e) {
    CHECK(e.row() == 2);
    CHECK(e.column() == std::optional<std::size_t>(0));
    CHECK(std::string(e.what()) ==
          "binary_crossentropy: target at row 2, column 0 is 3; expected a value in [0, 1]");
    CHECK(e.unplaced() == "binary_crossentropy: target is 3; expected a value in [0, 1]");
  }
  auto cce = make_loss("categorical_crossentropy");
  CHECK_THROWS_WITH_AS(cce->check_targets(Tensor{{1, 0}, {0.5f, 0.25f}}, 2),
                       "categorical_crossentropy: target at row 1 sums to 0.75; expected a "
                       "one-hot row (or class probabilities summing to 1)",
                       TargetError);

  CsvOrigin origin;
  const Dataset d = parse_csv("\"p, q\",y,z\n\n1,0,1\n2,1,0\n", "t.csv", {"z", "y"}, &origin);
  CHECK(origin.lines == std::vector<std::size_t>{3, 4});
  CHECK(origin.label_index == std::vector<std::size_t>{2, 1});
  CHECK(d.y == Tensor{{1, 0}, {0, 1}});
  CHECK(origin.label_cell(1, 0) == "CSV 't.csv', line 4, column 3 'z'");
  CHECK(origin.label_cell(0, std::nullopt) == "CSV 't.csv', line 3, columns 3 'z', 2 'y'");
}
