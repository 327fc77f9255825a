#include "data/dataset.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace normlab {

namespace {

// Rows [begin, end) of t as a new tensor.
Tensor slice_rows(const Tensor& t, std::size_t begin, std::size_t end) {
  Tensor out(end - begin, t.cols());
  for (std::size_t r = begin; r < end; ++r) {
    const float* src = t.row(r);
    std::copy(src, src + t.cols(), out.row(r - begin));
  }
  return out;
}

std::string float_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

void Dataset::check_consistent(const std::string& what) const {
  check(y.rows() == x.rows(), what + ": x has " + std::to_string(x.rows()) + " rows " +
                                  x.shape_string() + " but y has " + std::to_string(y.rows()) +
                                  " " + y.shape_string() + "; expected one target row per sample");
  check(sample_weight.empty() || sample_weight.size() == x.rows(),
        what + ": " + std::to_string(sample_weight.size()) + " sample weights for " +
            std::to_string(x.rows()) + " samples; expected one weight per sample or none");
}

std::pair<Dataset, Dataset> split_validation(const Dataset& data, double fraction) {
  data.check_consistent("validation_split");
  // The negated test also rejects NaN.
  check(fraction > 0.0 && fraction < 1.0,
        "validation_split must be in (0, 1) (exclusive), got " + float_text(fraction));
  const std::size_t n = data.size();
  // Keras: split_at = int(math.floor(n * (1.0 - validation_split))), in float64.
  const auto split_at =
      static_cast<std::size_t>(std::floor(static_cast<double>(n) * (1.0 - fraction)));
  check(split_at > 0 && split_at < n,
        "validation_split=" + float_text(fraction) + " of " + std::to_string(n) +
            " samples leaves " + std::to_string(split_at) + " for training and " +
            std::to_string(n - split_at) +
            " for validation; both must be non-empty (use more data or another fraction)");

  std::pair<Dataset, Dataset> out;
  auto& [train, val] = out;
  train.x = slice_rows(data.x, 0, split_at);
  val.x = slice_rows(data.x, split_at, n);
  train.y = slice_rows(data.y, 0, split_at);
  val.y = slice_rows(data.y, split_at, n);
  if (!data.sample_weight.empty()) {
    const auto mid = data.sample_weight.begin() + static_cast<std::ptrdiff_t>(split_at);
    train.sample_weight.assign(data.sample_weight.begin(), mid);
    val.sample_weight.assign(mid, data.sample_weight.end());
  }
  return out;
}

void check_finite(const Tensor& t, const std::string& what) {
  for (std::size_t r = 0; r < t.rows(); ++r) {
    const float* row = t.row(r);
    for (std::size_t c = 0; c < t.cols(); ++c) {
      if (std::isfinite(row[c])) continue;
      const char* kind = std::isnan(row[c]) ? "NaN" : (row[c] > 0 ? "+inf" : "-inf");
      throw Error(what + ": " + kind + " at row " + std::to_string(r) + ", column " +
                  std::to_string(c) + " (0-based) of " + t.shape_string() +
                  "; expected only finite values");
    }
  }
}

}  // namespace normlab
