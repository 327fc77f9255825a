// Printing shared by the normlab command and the example programs: weight vectors in a short
// or a full form, every BatchNormalization layer's state, and a binary classifier's figures
// for one class.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "model/sequential.h"

namespace normlab {

// "[0.0123, -0.4567, 0.1000, 0.2000, ...] min -1.2000 max 1.5000": the first `shown` values
// and the range over all of them.
std::string short_values(const Tensor& v, std::size_t shown = 4);
// Every value, `per_line` to a line, each line starting with `indent`.
std::string all_values(const Tensor& v, const std::string& indent, std::size_t per_line = 8);

// For every BatchNormalization layer: its name, then gamma, beta, moving_mean and
// moving_variance (those it has), in the short or the full form.
std::string batch_norm_report(Sequential& model, bool full);

// Confusion counts of a binary classifier for one class of interest:
//   precision = TP / (TP + FP)    recall = TP / (TP + FN)    F1 = 2 P R / (P + R)
// each 0 when its denominator is 0 (scikit-learn's zero_division=0).
struct ClassCounts {
  float label = 1.0f;  // the class these counts are for
  std::size_t tp = 0, fp = 0, fn = 0, tn = 0;
  double precision() const;
  double recall() const;
  double f1() const;
  double accuracy() const;                         // (TP + TN) / N, the same for both classes
  std::size_t support() const { return tp + fn; }  // rows of the class
  std::size_t rows() const { return tp + fp + fn + tn; }
};

// Outputs p (N x 1) against labels y (N x 1, each 0 or 1). The predicted class is 1 when
// p > threshold: 0.5 for probabilities, 0 for logits.
ClassCounts count_class(const Tensor& p, const Tensor& y, float label, float threshold);
// The less frequent of the labels 0 and 1 in y (N x 1); 1 on a tie.
float minority_label(const Tensor& y);
// "class 1 (100 of 1100 rows): precision 0.9804 - recall 1.0000 - F1 0.9901"
std::string format_class_counts(const ClassCounts& c);

// The model's loss and metrics on `data` in inference mode, and for a binary classifier (one
// output, binary cross-entropy) the minority class' precision, recall and F1, one per line.
std::string evaluation_report(Sequential& model, const Dataset& data, std::size_t batch_size);

}  // namespace normlab
