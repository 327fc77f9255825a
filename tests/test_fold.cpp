// BatchNormalization folding (io/fold.h): the folded model predicts what the original does
// (within 1e-5), folds W' = W s, b' = (b - mu) s + beta with s = gamma / sqrt(var + eps) as
// written out here, keeps every other layer, and unfolds to the original weights bit for bit
// (weights.bin compared byte for byte); and the errors for models that cannot be (un)folded.
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "io/fold.h"
#include "io/model_file.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "optim/adam.h"
#include "tests/run_program.h"
#include "tests/temp_dir.h"

using namespace normlab;
using normlab::testing::read_file_text;
using normlab::testing::TempDir;

namespace {

Tensor data(std::size_t rows, std::uint64_t seed) {
  Rng rng(seed);
  Tensor x(rows, 4);
  for (float& v : x) v = static_cast<float>(1.5 * rng.normal() + 0.5);
  return x;
}

// Two foldable pairs (one Dense without a bias, one BN without center and scale), a Dense with
// a ReLU that is not foldable, trained a few epochs so that every statistic has moved.
Sequential trained_model() {
  Sequential model(4, 3);
  model.add(Dense(6));
  model.add(BatchNormalization({.momentum = 0.8f}));
  model.add(Activation("relu"));
  model.add(Dense(5, "linear", false));
  model.add(BatchNormalization({.momentum = 0.7f, .center = false, .scale = false}));
  model.add(Dense(3, "relu"));
  model.add(BatchNormalization({.momentum = 0.7f}));
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  const Tensor x = data(64, 1);
  Tensor y(64, 1);
  for (std::size_t i = 0; i < 64; ++i) y[i] = x(i, 0) > 0.5f ? 1.0f : 0.0f;
  model.fit(x, y, {.batch_size = 16, .epochs = 3, .verbose = 0});
  return model;
}

}  // namespace

TEST_CASE("fold_batchnorm: one Dense per pair, the same predictions") {
  Sequential model = trained_model();
  FoldedModel folded = fold_batchnorm(model);
  REQUIRE(folded.model.num_layers() == 6);  // two pairs became two Dense layers
  CHECK(folded.model.layer(0).class_name() == "Dense");
  CHECK(folded.model.layer(0).name() == model.layer(0).name());
  CHECK(folded.model.layer(4).class_name() == "BatchNormalization");  // after Dense(relu)
  CHECK(folded.record["pairs"].size() == 2);
  CHECK(folded.model.compiled());

  // The second pair, folded by hand: no bias, gamma = 1, beta = 0.
  const auto& dense = dynamic_cast<const Dense&>(model.layer(3));
  const auto& bn = dynamic_cast<const BatchNormalization&>(model.layer(4));
  const auto& fused = dynamic_cast<const Dense&>(folded.model.layer(2));
  for (std::size_t j = 0; j < 5; ++j) {
    const double s = 1.0 / std::sqrt(double{bn.moving_variance[j]} + 1e-3);
    CHECK(fused.bias[j] == doctest::Approx(-bn.moving_mean[j] * s).epsilon(1e-6));
    for (std::size_t k = 0; k < 6; ++k)
      CHECK(fused.kernel(k, j) == doctest::Approx(dense.kernel(k, j) * s).epsilon(1e-6));
  }

  const Tensor x = data(50, 2);
  const Tensor want = model.predict(x), got = folded.model.predict(x);
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(std::abs(got[i] - want[i]) <= 1e-5f);
}

TEST_CASE("fold then unfold gives back the saved model bit for bit") {
  TempDir dir("fold_round_trip");
  Sequential model = trained_model();
  save_model(model, dir / "original", {{"label_columns", {"y"}}});
  fold_saved_model(dir / "original", dir / "folded");
  unfold_saved_model(dir / "folded", dir / "unfolded");

  CHECK(read_file_text(dir / "unfolded" / "weights.bin") ==
        read_file_text(dir / "original" / "weights.bin"));
  CHECK(read_file_text(dir / "unfolded" / "model.json") ==
        read_file_text(dir / "original" / "model.json"));
  const ModelInfo info = read_model_info(dir / "folded");
  CHECK(info.metadata == nlohmann::json{{"label_columns", {"y"}}});
  CHECK(info.folded["pairs"].size() == 2);
  CHECK(read_model_info(dir / "unfolded").folded.is_null());

  // The folded model, read back, predicts what the original does.
  Sequential folded = load_model(dir / "folded");
  const Tensor x = data(20, 3);
  const Tensor want = model.predict(x), got = folded.predict(x);
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(std::abs(got[i] - want[i]) <= 1e-5f);
}

TEST_CASE("folding errors name what is wrong") {
  TempDir dir("fold_errors");
  Sequential plain(3);
  plain.add(Dense(2, "relu"));
  plain.add(BatchNormalization());
  CHECK_THROWS_WITH_AS(fold_batchnorm(plain), doctest::Contains("nothing to fold"), Error);

  Sequential model = trained_model();
  save_model(model, dir / "original");
  CHECK_THROWS_WITH_AS(unfold_saved_model(dir / "original", dir / "out"),
                       doctest::Contains("nothing to unfold"), Error);
  fold_saved_model(dir / "original", dir / "folded");
  CHECK_THROWS_WITH_AS(fold_saved_model(dir / "folded", dir / "out"),
                       doctest::Contains("already folded"), Error);

  FoldedModel folded = fold_batchnorm(model);
  nlohmann::json record = folded.record;
  record["pairs"][0]["dense_weights"]["kernel"] = "zz";
  CHECK_THROWS_WITH_AS(unfold_batchnorm(folded.model, record, "folded"),
                       doctest::Contains("folded.pairs[0].dense_weights.kernel: expected 24 "
                                         "float32 values as 8 hex digits each"),
                       Error);
  record = folded.record;
  std::string& bits =
      record["pairs"][1]["batch_normalization_weights"]["moving_mean"].get_ref<std::string&>();
  bits[3] = 'g';
  CHECK_THROWS_WITH_AS(unfold_batchnorm(folded.model, record, "folded"),
                       doctest::Contains("'g' at character 3 is not a hex digit"), Error);
  record = folded.record;
  record["pairs"][1]["index"] = 5;
  CHECK_THROWS_WITH_AS(unfold_batchnorm(folded.model, record, "folded"),
                       doctest::Contains("folded.pairs[1]: its index 5 does not name, in order, "
                                         "the folded Dense layer \"dense_1\""),
                       Error);
  CHECK(std::filesystem::exists(dir / "out") == false);
}
