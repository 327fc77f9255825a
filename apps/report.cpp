#include "apps/report.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "core/text.h"
#include "layers/batch_normalization.h"
#include "model/progress_bar.h"

namespace normlab {

namespace {
std::string fixed(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", value);
  return text;
}

double ratio(std::size_t num, std::size_t den) {
  return den ? static_cast<double>(num) / static_cast<double>(den) : 0.0;
}
}  // namespace

std::string short_values(const Tensor& v, std::size_t shown) {
  if (v.empty()) return "[]";
  std::string out = "[";
  for (std::size_t i = 0; i < std::min(shown, v.size()); ++i) out += (i ? ", " : "") + fixed(v[i]);
  if (v.size() > shown) out += ", ...";
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  out += "] min ";
  out += fixed(*lo);
  out += " max ";
  out += fixed(*hi);
  return out;
}

std::string all_values(const Tensor& v, const std::string& indent, std::size_t per_line) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i % per_line == 0) out += (i ? "\n" : "") + indent;
    char text[32];
    std::snprintf(text, sizeof text, "%10.4f", static_cast<double>(v[i]));
    out += text;
  }
  return out + "\n";
}

std::string batch_norm_report(Sequential& model, bool full) {
  std::string out;
  for (const auto& [i, bn] : model.layers_of_kind<BatchNormalization>()) {
    out += bn->name() + " (BatchNormalization, momentum " + fixed(bn->config().momentum) + ", " +
           std::to_string(bn->output_dim()) + " channels)\n";
    for (const auto& var : model.layer_variables(i)) {
      std::string label = "  " + var.name;
      if (full) {
        out += label + ":\n" + all_values(*var.value, "  ");
      } else {
        label.resize(std::max<std::size_t>(label.size() + 1, 19), ' ');
        out += label + short_values(*var.value) + "\n";
      }
    }
  }
  return out;
}

double ClassCounts::precision() const {
  return ratio(tp, tp + fp);
}
double ClassCounts::recall() const {
  return ratio(tp, tp + fn);
}
double ClassCounts::accuracy() const {
  return ratio(tp + tn, rows());
}
double ClassCounts::f1() const {
  const double p = precision(), r = recall();
  return p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
}

ClassCounts count_class(const Tensor& p, const Tensor& y, float label, float threshold) {
  check(p.cols() == 1 && y.cols() == 1 && p.rows() == y.rows(),
        "count_class: expected one output and one label column of equal length, got outputs " +
            p.shape_string() + " and labels " + y.shape_string());
  ClassCounts c;
  c.label = label;
  for (std::size_t i = 0; i < p.rows(); ++i) {
    const bool predicted = (p(i, 0) > threshold ? 1.0f : 0.0f) == label;
    const bool actual = (y(i, 0) > 0.5f ? 1.0f : 0.0f) == label;
    c.tp += predicted && actual;
    c.fp += predicted && !actual;
    c.fn += !predicted && actual;
    c.tn += !predicted && !actual;
  }
  return c;
}

float minority_label(const Tensor& y) {
  std::size_t ones = 0;
  for (float v : y) ones += v > 0.5f;
  return 2 * ones <= y.size() ? 1.0f : 0.0f;
}

std::string format_class_counts(const ClassCounts& c) {
  char label[16];
  std::snprintf(label, sizeof label, "%g", static_cast<double>(c.label));
  return std::string("class ") + label + " (" + std::to_string(c.support()) + " of " +
         std::to_string(c.rows()) + " rows): precision " + fixed(c.precision()) + " - recall " +
         fixed(c.recall()) + " - F1 " + fixed(c.f1());
}

std::string evaluation_report(Sequential& model, const Dataset& data, std::size_t batch_size) {
  std::string out = format_logs(model.evaluate(data.x, data.y, batch_size)) + "\n";
  if (model.output_dim() == 1 && model.loss().name() == "binary_crossentropy") {
    const Tensor p = model.predict(data.x, batch_size);
    const float threshold = model.loss().from_logits() ? 0.0f : 0.5f;
    out += "minority " +
           format_class_counts(count_class(p, data.y, minority_label(data.y), threshold)) + "\n";
  }
  return out;
}

}  // namespace normlab
