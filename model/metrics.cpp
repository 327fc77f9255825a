#include "model/metrics.h"

#include <algorithm>

#include "core/error.h"

namespace normlab {

Metric::Metric(std::string display_name, Kind kind, float threshold)
    : name_(std::move(display_name)), kind_(kind), threshold_(threshold) {}

void Metric::update(const Tensor& y_pred, const Tensor& y_true, const float* sample_weight) {
  const std::size_t k = y_pred.cols();
  for (std::size_t i = 0; i < y_pred.rows(); ++i) {
    const float w = sample_weight ? sample_weight[i] : 1.0f;
    const float* p = y_pred.row(i);
    const float* y = y_true.row(i);
    double hit = 0.0;
    if (kind_ == Kind::Binary) {
      for (std::size_t c = 0; c < k; ++c) hit += (p[c] > threshold_) == (y[c] > 0.5f) ? 1.0 : 0.0;
      hit /= static_cast<double>(k);
    } else {
      const auto predicted = static_cast<std::size_t>(std::max_element(p, p + k) - p);
      const auto expected = kind_ == Kind::SparseCategorical
                                ? static_cast<std::size_t>(y[0])
                                : static_cast<std::size_t>(std::max_element(y, y + k) - y);
      hit = predicted == expected ? 1.0 : 0.0;
    }
    correct_ += w * hit;
    total_ += w;
  }
}

Metric make_metric(const std::string& name, const Loss& loss) {
  const float threshold = loss.from_logits() ? 0.0f : 0.5f;
  const bool sparse = loss.name() == "sparse_categorical_crossentropy";
  const bool categorical = sparse || loss.name() == "categorical_crossentropy";
  if (name == "accuracy" || name == "acc") {
    if (sparse) return {name, Metric::Kind::SparseCategorical, threshold};
    return {name, categorical ? Metric::Kind::Categorical : Metric::Kind::Binary, threshold};
  }
  if (name == "binary_accuracy") return {name, Metric::Kind::Binary, threshold};
  if (name == "categorical_accuracy") return {name, Metric::Kind::Categorical, threshold};
  if (name == "sparse_categorical_accuracy")
    return {name, Metric::Kind::SparseCategorical, threshold};
  throw Error("unknown metric '" + name +
              "': expected one of accuracy, binary_accuracy, categorical_accuracy, "
              "sparse_categorical_accuracy (the loss is always reported)");
}

}  // namespace normlab
