// The three example programs run to completion with their key figures in range, and each
// matches its config in configs/ run by `normlab train`:
//   1. example_basic: the gap between the moving statistics and the population statistics of
//      the layer's input closes with more steps; the variance ratio settles near (B - 1) / B.
//   2. example_custom_loop: the moving statistics move every epoch, and the explicit loop ends
//      exactly where fit() does.
//   3. example_imbalanced: accuracy and the minority class' recall on the test set.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "run_program.h"

#ifdef NORMLAB_APPS_DIR

using normlab::testing::lines_starting;
using normlab::testing::ProgramResult;
using normlab::testing::run_program;
namespace fs = std::filesystem;

namespace {

ProgramResult run_app(const std::string& name, const std::string& args = "") {
  return run_program(std::string("'") + NORMLAB_APPS_DIR + "/" + name + "' " + args);
}

// Runs `normlab train CONFIG` quietly into a temporary folder; returns its output and leaves
// the model in `out`.
ProgramResult train_config(const std::string& config, const fs::path& out) {
  return run_app("normlab", "train '" + std::string(NORMLAB_SOURCE_DIR) + "/configs/" + config +
                                "' --verbose 0 --out '" + out.string() + "'");
}

fs::path temp_model(const std::string& name) {
  return fs::temp_directory_path() /
         ("normlab_test_examples_" + std::to_string(::getpid()) + "_" + name);
}

// The lines after the first line equal to `start`, up to (not including) the next heading: a
// line that does not start with a space or that ends with ':'.
std::vector<std::string> block_after(const std::string& text, const std::string& start) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (inside && (line.empty() || line[0] != ' ' || line.back() == ':')) break;
    if (inside) lines.push_back(line);
    if (line == start) inside = true;
  }
  return lines;
}

// "... min A max B" -> {A, B}
std::pair<double, double> range_of(const std::string& line) {
  double lo = 0, hi = 0;
  const auto at = line.rfind(" min ");
  REQUIRE(at != std::string::npos);
  REQUIRE(std::sscanf(line.c_str() + at, " min %lf max %lf", &lo, &hi) == 2);
  return {lo, hi};
}

// The value after `label` in the line that starts with `prefix`.
double figure(const std::string& text, const std::string& prefix, const std::string& label) {
  const auto lines = lines_starting(text, prefix);
  REQUIRE(lines.size() == 1);
  const auto at = lines[0].find(label);
  REQUIRE(at != std::string::npos);
  return std::stod(lines[0].substr(at + label.size()));
}

}  // namespace

TEST_CASE("example_basic: the gap to the population statistics closes with more steps") {
  const auto run = run_app("example_basic");
  INFO(run.out, run.err);
  REQUIRE(run.status == 0);

  struct Row {
    int epoch, steps;
    double loss, mean_gap, variance_gap, ratio;
  };
  std::vector<Row> rows;
  std::istringstream in(run.out);
  for (std::string line; std::getline(in, line);) {
    Row r{};
    if (std::sscanf(line.c_str(), "%d %d %lf %lf %lf %lf", &r.epoch, &r.steps, &r.loss, &r.mean_gap,
                    &r.variance_gap, &r.ratio) == 6)
      rows.push_back(r);
  }
  REQUIRE(rows.size() == 12);  // epochs 1-5, then every fifth up to 40
  const Row &first = rows.front(), &last = rows.back();
  CHECK(first.steps == 32);
  CHECK(last.steps == 40 * 32);
  // The start value (variance 1 against a population variance near 0.3) dominates at first,
  CHECK(first.variance_gap > 2.0);
  // and is gone after 1280 steps, leaving the ratio near (B - 1) / B = 0.97.
  CHECK(last.variance_gap < first.variance_gap / 20.0);
  CHECK(last.variance_gap < 0.1);
  CHECK(last.ratio > 0.94);
  CHECK(last.ratio < 0.99);
  CHECK(last.mean_gap < 0.05);  // within noise: 0.07 sigma / sqrt(32) per channel
  CHECK(last.loss < first.loss / 5.0);

  // `normlab train configs/example_basic.json` ends with the same moving statistics, which
  // `normlab inspect` prints in the same form.
  const fs::path model = temp_model("basic");
  REQUIRE(train_config("example_basic.json", model).status == 0);
  const auto inspect = run_app("normlab", "inspect '" + model.string() + "'");
  fs::remove_all(model);
  REQUIRE(inspect.status == 0);
  const auto mean = block_after(run.out, "Moving Mean:");
  CHECK(mean.size() == 8);  // 64 channels, 8 per line
  CHECK(mean == block_after(inspect.out, "  moving_mean:"));
  CHECK(block_after(run.out, "Moving Variance:") == block_after(inspect.out, "  moving_variance:"));
}

TEST_CASE("example_custom_loop: moving statistics every epoch, ending where fit() ends") {
  const auto run = run_app("example_custom_loop");
  INFO(run.out, run.err);
  REQUIRE(run.status == 0);
  CHECK(lines_starting(run.out, "Epoch ").size() == 10);
  const auto means = lines_starting(run.out, "  moving_mean      [");
  const auto variances = lines_starting(run.out, "  moving_variance  [");
  REQUIRE(means.size() == 11);  // one per epoch, then the final report
  REQUIRE(variances.size() == 11);
  for (std::size_t e = 1; e < 10; ++e) CHECK(variances[e] != variances[e - 1]);
  // With momentum 0.9 the start value 1 is forgotten after the first epoch (0.9^32 = 0.03):
  // every channel now carries its input's variance, well below 1 here.
  for (std::size_t e = 0; e < 10; ++e) {
    const auto [lo, hi] = range_of(variances[e]);
    CHECK(lo > 0.0);
    CHECK(hi < 1.0);
  }

  const fs::path model = temp_model("custom_loop");
  const auto fit = train_config("example_custom_loop.json", model);
  fs::remove_all(model);
  INFO(fit.out, fit.err);
  REQUIRE(fit.status == 0);
  const auto loop_state =
      block_after(run.out, "bn_layer (BatchNormalization, momentum 0.9000, 64 channels)");
  CHECK(loop_state.size() == 4);  // gamma, beta, moving_mean, moving_variance
  CHECK(loop_state ==
        block_after(fit.out, "bn_layer (BatchNormalization, momentum 0.9000, 64 channels)"));
}

TEST_CASE("example_imbalanced: accuracy and the minority class' recall on the test set") {
  const auto run = run_app("example_imbalanced");
  INFO(run.out, run.err);
  REQUIRE(run.status == 0);
  CHECK(lines_starting(run.out, "Epoch ").size() == 10);
  const double accuracy = figure(run.out, "  accuracy ", "accuracy");
  CHECK(accuracy >= 0.97);
  CHECK(figure(run.out, "  always answering 0", "score") ==
        doctest::Approx(1000.0 / 1100.0).epsilon(1e-4));
  const double recall = figure(run.out, "  minority class 1 (100 of 1100 rows)", "recall");
  CHECK(recall >= 0.5);
  CHECK(figure(run.out, "  minority class 1", "precision") >= 0.5);

  // `normlab train` without a config runs the same thing (configs/imbalanced.json).
  const fs::path model = temp_model("imbalanced");
  const auto fit = run_app("normlab", "train --verbose 0 --out '" + model.string() + "'");
  fs::remove_all(model);
  INFO(fit.out, fit.err);
  REQUIRE(fit.status == 0);
  const auto example_line = lines_starting(run.out, "  minority class 1");
  const auto command_line = lines_starting(fit.out, "minority class 1");
  REQUIRE(example_line.size() == 1);
  REQUIRE(command_line.size() == 1);
  CHECK(example_line[0] == "  " + command_line[0]);
  // The example's last val_loss (the test set after epoch 10) is the command's final loss.
  const auto last_epoch = lines_starting(run.out, "35/35 ");
  REQUIRE(last_epoch.size() == 10);
  const auto val_loss = last_epoch.back().find("val_loss: ");
  REQUIRE(val_loss != std::string::npos);
  const auto final_loss = lines_starting(fit.out, "loss: ");
  REQUIRE(final_loss.size() == 1);
  CHECK(last_epoch.back().substr(val_loss + 10, 6) == final_loss[0].substr(6, 6));
}

#else
TEST_CASE("example programs" * doctest::skip()) {
  MESSAGE("the programs are not built (NORMLAB_BUILD_APPS=OFF)");
}
#endif
