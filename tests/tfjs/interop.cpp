// The C++ half of the TensorFlow.js interoperability test; roundtrip.js is the other half and
// run_interop.cmake runs them in turn:
//   normlab_tfjs_interop write DIR   trains Dense(8) -> BatchNormalization -> ReLU ->
//                                    Dense(1, sigmoid) for 12 steps, saves it as
//                                    DIR/normlab_model, its BatchNormalization folded into the
//                                    Dense (io/fold.h) as DIR/normlab_folded_model, and the
//                                    unfolded model's predictions (inference mode) as
//                                    DIR/normlab_predictions.json {"x": [[...]], "y": [[...]]}
//   normlab_tfjs_interop check DIR   loads DIR/tfjs_model, which TensorFlow.js built, trained and
//                                    saved, and predicts DIR/tfjs_predictions.json's x: the
//                                    outputs must be TensorFlow.js' y within 1e-5
// The exit status is 0 only when every check holds.
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "io/fold.h"
#include "io/model_file.h"
#include "normlab.h"

using namespace normlab;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr float kTolerance = 1e-5f;

json tensor_rows(const Tensor& t) {
  json rows = json::array();
  for (std::size_t r = 0; r < t.rows(); ++r)
    rows.push_back(std::vector<float>(t.row(r), t.row(r) + t.cols()));
  return rows;
}

// Rows around (0.5, ..., 0.5) labelled by x0 + x1 > 1, as roundtrip.js draws its own.
void make_data(Tensor& x, Tensor& y, std::uint64_t seed) {
  Rng rng(seed);
  for (float& v : x) v = static_cast<float>(rng.normal() + 0.5);
  for (std::size_t r = 0; r < x.rows(); ++r) y(r, 0) = x(r, 0) + x(r, 1) > 1.0f ? 1.0f : 0.0f;
}

int write(const fs::path& dir) {
  Sequential model(5, 1);
  model.add(Dense(8));
  model.add(BatchNormalization({.momentum = 0.9f}));
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam({.learning_rate = 0.01f}), "binary_crossentropy", {"accuracy"});
  Tensor x(48, 5), y(48, 1);
  make_data(x, y, 3);
  model.fit(x, y, {.batch_size = 16, .epochs = 4, .verbose = 0});
  save_model(model, dir / "normlab_model");
  fold_saved_model(dir / "normlab_model", dir / "normlab_folded_model");

  Tensor eval(16, 5), unused(16, 1);
  make_data(eval, unused, 4);
  std::ofstream(dir / "normlab_predictions.json")
      << json{{"x", tensor_rows(eval)}, {"y", tensor_rows(model.predict(eval))}}.dump();
  std::printf("normlab: saved %s\n", (dir / "normlab_model").c_str());
  return 0;
}

int check_tfjs_model(const fs::path& dir) {
  Sequential model = load_model(dir / "tfjs_model");
  const json expected = json::parse(std::ifstream(dir / "tfjs_predictions.json"));
  const Tensor x = Tensor::from_rows(expected["x"].get<std::vector<std::vector<float>>>());
  const Tensor y = Tensor::from_rows(expected["y"].get<std::vector<std::vector<float>>>());
  const Tensor p = model.predict(x);
  int failures = 0;
  if (p.rows() != y.rows() || p.cols() != y.cols()) {
    std::printf("FAIL: normlab predicts %s, TensorFlow.js %s\n", p.shape_string().c_str(),
                y.shape_string().c_str());
    return 1;
  }
  float max_diff = 0.0f;
  for (std::size_t i = 0; i < p.size(); ++i) max_diff = std::max(max_diff, std::abs(p[i] - y[i]));
  std::printf("normlab on TensorFlow.js' model: max |difference| %.3g over %zu predictions\n",
              static_cast<double>(max_diff), p.size());
  if (!(max_diff <= kTolerance)) {
    std::printf("FAIL: more than %g\n", static_cast<double>(kTolerance));
    ++failures;
  }
  // The moving statistics came from model.fit in TensorFlow.js, not from the initializers.
  const auto& bn = dynamic_cast<BatchNormalization&>(model.layer(1));
  if (bn.moving_mean[0] == 0.0f || bn.moving_variance[0] == 1.0f) {
    std::printf("FAIL: the BatchNormalization moving statistics are still the initial ones\n");
    ++failures;
  }
  if (!model.compiled()) {
    std::printf("FAIL: TensorFlow.js' trainingConfig did not compile the model\n");
    ++failures;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc == 3 ? argv[1] : "";
  if (command != "write" && command != "check") {
    std::fprintf(stderr, "usage: %s write|check DIR\n", argv[0]);
    return 2;
  }
  try {
    return command == "write" ? write(argv[2]) : check_tfjs_model(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
    return 1;
  }
}
