// Metrics: Keras' accuracies by hand, the "accuracy" alias resolved from the loss, thresholds on
// logits, sample weights, accumulation over batches, unknown names.
#include <doctest/doctest.h>

#include <vector>

#include "core/error.h"
#include "model/losses.h"
#include "model/metrics.h"

using namespace normlab;

TEST_CASE("binary_accuracy: (p > 0.5) == (y > 0.5), mean over outputs and rows") {
  auto bce = make_loss("binary_crossentropy");
  Metric m = make_metric("binary_accuracy", *bce);
  // p = 0.5 is not > 0.5, so it predicts 0: rows 0 and 1 right, row 2 wrong
  m.update(Tensor{{0.4f}, {0.6f}, {0.5f}}, Tensor{{0}, {1}, {1}});
  CHECK(m.result() == doctest::Approx(2.0 / 3.0));
  // two outputs per row: [right, wrong] counts 1/2
  m.reset();
  m.update(Tensor{{0.9f, 0.9f}}, Tensor{{1, 0}});
  CHECK(m.result() == 0.5f);
  CHECK(m.name() == "binary_accuracy");
}

TEST_CASE("accuracy picks the metric that fits the loss, with threshold 0 on logits") {
  auto logits = make_loss("binary_crossentropy", true);
  Metric m = make_metric("accuracy", *logits);
  CHECK(m.name() == "accuracy");
  // logits: z > 0 is class 1 (sigmoid(z) > 0.5)
  m.update(Tensor{{-0.1f}, {0.1f}, {0.4f}}, Tensor{{0}, {1}, {0}});
  CHECK(m.result() == doctest::Approx(2.0 / 3.0));

  auto cce = make_loss("categorical_crossentropy");
  Metric c = make_metric("acc", *cce);
  c.update(Tensor{{0.1f, 0.7f, 0.2f}, {0.5f, 0.3f, 0.2f}}, Tensor{{0, 1, 0}, {0, 0, 1}});
  CHECK(c.result() == 0.5f);  // arg-max 1 == 1, arg-max 0 != 2

  auto sparse = make_loss("sparse_categorical_crossentropy");
  Metric s = make_metric("accuracy", *sparse);
  s.update(Tensor{{0.1f, 0.7f, 0.2f}, {0.5f, 0.3f, 0.2f}}, Tensor{{1}, {2}});
  CHECK(s.result() == 0.5f);
}

TEST_CASE("categorical and sparse accuracies by name; sample weights weight rows") {
  auto mse = make_loss("mse");
  Metric c = make_metric("categorical_accuracy", *mse);
  const std::vector<float> w{3, 1};
  c.update(Tensor{{0.2f, 0.8f}, {0.9f, 0.1f}}, Tensor{{0, 1}, {0, 1}}, w.data());
  CHECK(c.result() == 0.75f);  // (3 * 1 + 1 * 0) / (3 + 1)
  Metric s = make_metric("sparse_categorical_accuracy", *mse);
  s.update(Tensor{{0.2f, 0.8f}, {0.9f, 0.1f}}, Tensor{{1}, {1}}, w.data());
  CHECK(s.result() == 0.75f);
}

TEST_CASE("Metrics accumulate over batches until reset") {
  auto bce = make_loss("binary_crossentropy");
  Metric m = make_metric("accuracy", *bce);
  CHECK(m.result() == 0.0f);                                        // nothing seen
  m.update(Tensor{{0.9f}}, Tensor{{1}});                            // 1 of 1
  m.update(Tensor{{0.9f}, {0.9f}, {0.1f}}, Tensor{{0}, {0}, {0}});  // 1 of 3
  CHECK(m.result() == 0.5f);  // 2 of 4, not the mean of the batch means (0.67)
  m.reset();
  m.update(Tensor{{0.1f}}, Tensor{{0}});
  CHECK(m.result() == 1.0f);
}

TEST_CASE("Unknown metric names are errors") {
  auto bce = make_loss("binary_crossentropy");
  CHECK_THROWS_WITH_AS(make_metric("auc", *bce),
                       doctest::Contains("unknown metric 'auc': expected one of accuracy, "
                                         "binary_accuracy, categorical_accuracy, "
                                         "sparse_categorical_accuracy"),
                       Error);
}
