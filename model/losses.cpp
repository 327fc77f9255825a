#include "model/losses.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/format.h"

namespace normlab {

namespace {
std::string shape_mismatch(const std::string& loss, const Tensor& y_true, std::size_t k,
                           const std::string& expected) {
  return loss + ": targets of shape " + y_true.shape_string() + " do not fit " + std::to_string(k) +
         " model outputs; expected " + expected;
}

// Checks run on every batch: messages are built only when a check fails, so that a training
// step allocates nothing.
void check_range(const Loss& loss, const Tensor& y_true, float low, float high, bool integer) {
  for (std::size_t r = 0; r < y_true.rows(); ++r)
    for (std::size_t c = 0; c < y_true.cols(); ++c) {
      const float v = y_true(r, c);
      if (!(std::isfinite(v) && v >= low && v <= high && (!integer || v == std::floor(v))))
        throw TargetError(loss.name(), r, c,
                          "is " + format_float(v) + "; expected " +
                              (integer ? "an integer class index" : "a value") + " in [" +
                              std::to_string(static_cast<int>(low)) + ", " +
                              std::to_string(static_cast<int>(high)) + "]");
    }
}

// Categorical targets are distributions over the classes: sum_k y_k = 1 (one-hot rows, or soft
// labels). A row of zeros would add no loss, a row of several ones would ask for several
// classes at once. The tolerance admits rounded soft labels such as 0.333, 0.333, 0.333.
constexpr float kRowSumTolerance = 1e-2f;
void check_rows_sum_to_one(const Loss& loss, const Tensor& y_true) {
  for (std::size_t r = 0; r < y_true.rows(); ++r) {
    float sum = 0.0f;
    for (std::size_t c = 0; c < y_true.cols(); ++c) sum += y_true(r, c);
    if (!(std::fabs(sum - 1.0f) <= kRowSumTolerance))
      throw TargetError(loss.name(), r, std::nullopt,
                        "sums to " + format_float(sum) +
                            "; expected a one-hot row (or class probabilities summing to 1)");
  }
}

class MeanSquaredError final : public Loss {
 public:
  explicit MeanSquaredError(float clip_epsilon) : Loss(false, clip_epsilon) {}
  std::string name() const override { return "mean_squared_error"; }

 private:
  void per_sample(const Tensor& p, const Tensor& y, float* loss, Tensor& grad) const override {
    const std::size_t k = p.cols();
    for (std::size_t i = 0; i < p.rows(); ++i) {
      float sum = 0.0f;
      for (std::size_t c = 0; c < k; ++c) {
        const float diff = p(i, c) - y(i, c);
        sum += diff * diff;
        grad(i, c) = 2.0f * diff / static_cast<float>(k);
      }
      loss[i] = sum / static_cast<float>(k);
    }
  }
};

class BinaryCrossentropy final : public Loss {
 public:
  BinaryCrossentropy(bool from_logits, float clip_epsilon) : Loss(from_logits, clip_epsilon) {}
  std::string name() const override { return "binary_crossentropy"; }
  void check_targets(const Tensor& y_true, std::size_t outputs) const override {
    Loss::check_targets(y_true, outputs);
    check_range(*this, y_true, 0.0f, 1.0f, false);
  }

 private:
  void per_sample(const Tensor& p, const Tensor& y, float* loss, Tensor& grad) const override {
    const std::size_t k = p.cols();
    const float inv_k = 1.0f / static_cast<float>(k);
    for (std::size_t i = 0; i < p.rows(); ++i) {
      float sum = 0.0f;
      for (std::size_t c = 0; c < k; ++c) {
        const float t = y(i, c);
        if (from_logits_) {
          const float z = p(i, c);
          sum += std::max(z, 0.0f) - z * t + std::log1p(std::exp(-std::fabs(z)));
          const float s =
              z >= 0.0f ? 1.0f / (1.0f + std::exp(-z)) : std::exp(z) / (1.0f + std::exp(z));
          grad(i, c) = (s - t) * inv_k;
        } else {
          const float q = std::clamp(p(i, c), clip_epsilon_, 1.0f - clip_epsilon_);
          sum -= t * std::log(q) + (1.0f - t) * std::log(1.0f - q);
          const bool clipped = p(i, c) < clip_epsilon_ || p(i, c) > 1.0f - clip_epsilon_;
          grad(i, c) = clipped ? 0.0f : (-t / q + (1.0f - t) / (1.0f - q)) * inv_k;
        }
      }
      loss[i] = sum * inv_k;
    }
  }
};

class CategoricalCrossentropy : public Loss {
 public:
  CategoricalCrossentropy(bool from_logits, bool sparse, float clip_epsilon)
      : Loss(from_logits, clip_epsilon), sparse_(sparse) {}
  std::string name() const override {
    return sparse_ ? "sparse_categorical_crossentropy" : "categorical_crossentropy";
  }
  void check_targets(const Tensor& y_true, std::size_t outputs) const override {
    if (!sparse_) {
      Loss::check_targets(y_true, outputs);
      check_range(*this, y_true, 0.0f, 1.0f, false);
      check_rows_sum_to_one(*this, y_true);
      return;
    }
    if (y_true.cols() != 1)
      throw Error(shape_mismatch(name(), y_true, outputs, "one class index per row"));
    check_range(*this, y_true, 0.0f, static_cast<float>(outputs - 1), true);
  }

 private:
  // y_k: the one-hot row for sparse targets, the given row otherwise.
  float target(const Tensor& y, std::size_t i, std::size_t c) const {
    if (sparse_) return static_cast<std::size_t>(y(i, 0)) == c ? 1.0f : 0.0f;
    return y(i, c);
  }

  void per_sample(const Tensor& p, const Tensor& y, float* loss, Tensor& grad) const override {
    const std::size_t k = p.cols();
    for (std::size_t i = 0; i < p.rows(); ++i) {
      const float* pr = p.row(i);
      float* gr = grad.row(i);
      float sum_y = 0.0f, l = 0.0f;
      for (std::size_t c = 0; c < k; ++c) sum_y += target(y, i, c);
      if (from_logits_) {
        // log softmax(z)_k = z_k - max - log sum exp(z - max)
        const float max = *std::max_element(pr, pr + k);
        float sum_exp = 0.0f;
        for (std::size_t c = 0; c < k; ++c) sum_exp += std::exp(pr[c] - max);
        const float log_sum = std::log(sum_exp);
        for (std::size_t c = 0; c < k; ++c) {
          const float log_q = pr[c] - max - log_sum;
          l -= target(y, i, c) * log_q;
          gr[c] = std::exp(log_q) * sum_y - target(y, i, c);
        }
      } else {
        // q = p / s, dl/dq_c = -y_c / clip(q_c) (0 where clipped),
        // dl/dp_j = (dl/dq_j - sum_c dl/dq_c q_c) / s
        float s = 0.0f;
        for (std::size_t c = 0; c < k; ++c) s += pr[c];
        float dot = 0.0f;
        for (std::size_t c = 0; c < k; ++c) {
          const float q = pr[c] / s;
          const float qc = std::clamp(q, clip_epsilon_, 1.0f - clip_epsilon_);
          l -= target(y, i, c) * std::log(qc);
          gr[c] = (q < clip_epsilon_ || q > 1.0f - clip_epsilon_) ? 0.0f : -target(y, i, c) / qc;
          dot += gr[c] * q;
        }
        for (std::size_t c = 0; c < k; ++c) gr[c] = (gr[c] - dot) / s;
      }
      loss[i] = l;
    }
  }

  bool sparse_;
};
}  // namespace

void Loss::check_targets(const Tensor& y_true, std::size_t outputs) const {
  if (y_true.cols() != outputs)
    throw Error(shape_mismatch(name(), y_true, outputs,
                               std::to_string(outputs) + " target columns, one per output"));
  for (std::size_t r = 0; r < y_true.rows(); ++r)
    for (std::size_t c = 0; c < y_true.cols(); ++c)
      if (!std::isfinite(y_true(r, c))) throw TargetError(name(), r, c, "is not finite");
}

namespace {
std::string place(std::size_t row, std::optional<std::size_t> column) {
  return "at row " + std::to_string(row) +
         (column ? ", column " + std::to_string(*column) : std::string());
}
}  // namespace

TargetError::TargetError(const std::string& loss, std::size_t row,
                         std::optional<std::size_t> column, const std::string& problem)
    : Error(loss + ": target " + place(row, column) + " " + problem),
      row_(row),
      column_(column),
      unplaced_(loss + ": target " + problem) {}

float Loss::forward(const Tensor& y_pred, const Tensor& y_true, const float* sample_weight) {
  const std::size_t n = y_pred.rows();
  if (y_true.rows() != n)
    throw Error(name() + ": " + std::to_string(n) + " predictions but " +
                std::to_string(y_true.rows()) + " target rows");
  // Targets of the wrong width would be read out of bounds, labels out of range mislabel.
  check_targets(y_true, y_pred.cols());
  grad_.resize(n, y_pred.cols());
  if (loss_.size() < n) loss_.resize(n);
  per_sample(y_pred, y_true, loss_.data(), grad_);
  // L = (1/N) sum_i w_i l_i,  dL/dpred_i = (w_i/N) dl_i/dpred_i
  const float inv_n = 1.0f / static_cast<float>(n);
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const float w = sample_weight ? sample_weight[i] : 1.0f;
    total += static_cast<double>(w) * loss_[i];
    float* g = grad_.row(i);
    for (std::size_t c = 0; c < grad_.cols(); ++c) g[c] *= w * inv_n;
  }
  return static_cast<float>(total * inv_n);
}

std::unique_ptr<Loss> make_loss(const std::string& name, bool from_logits, float clip_epsilon) {
  check(clip_epsilon > 0.0f && clip_epsilon < 0.5f,
        "the clipping bound epsilon must lie in (0, 0.5), got " + format_float(clip_epsilon));
  if (name == "mse" || name == "mean_squared_error") {
    check(!from_logits, "mean_squared_error does not take from_logits");
    return std::make_unique<MeanSquaredError>(clip_epsilon);
  }
  if (name == "binary_crossentropy")
    return std::make_unique<BinaryCrossentropy>(from_logits, clip_epsilon);
  if (name == "categorical_crossentropy")
    return std::make_unique<CategoricalCrossentropy>(from_logits, false, clip_epsilon);
  if (name == "sparse_categorical_crossentropy")
    return std::make_unique<CategoricalCrossentropy>(from_logits, true, clip_epsilon);
  throw Error("unknown loss '" + name +
              "': expected one of mean_squared_error (mse), binary_crossentropy, "
              "categorical_crossentropy, sparse_categorical_crossentropy");
}

}  // namespace normlab
