#include "model/precise_bn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/error.h"
#include "layers/batch_normalization.h"

namespace normlab {

namespace {

// Chan, Golub & LeVeque's pairwise update: merges the moments of one batch (count n_b, mean_b,
// sum of squared deviations M2_b, both computed in two passes in double) into the running ones.
void merge_batch(const Tensor& y, PopulationMoments& total, std::vector<double>& m2) {
  const std::size_t n_b = y.rows(), d = y.cols();
  const double n = static_cast<double>(total.count + n_b);
  for (std::size_t j = 0; j < d; ++j) {
    double mean_b = 0.0;
    for (std::size_t i = 0; i < n_b; ++i) mean_b += y(i, j);
    mean_b /= static_cast<double>(n_b);
    double m2_b = 0.0;
    for (std::size_t i = 0; i < n_b; ++i) m2_b += (y(i, j) - mean_b) * (y(i, j) - mean_b);
    const double delta = mean_b - total.mean[j];
    const double n_a = static_cast<double>(total.count);
    total.mean[j] += delta * static_cast<double>(n_b) / n;
    m2[j] += m2_b + delta * delta * n_a * static_cast<double>(n_b) / n;
  }
  total.count += n_b;
}

void check_request(const Sequential& model, const Tensor& x, const RecalibrateOptions& o) {
  check(x.rows() > 0, "recalibrate_batchnorm: the data has no rows");
  check(x.cols() == model.input_dim(),
        "recalibrate_batchnorm: the data has " + std::to_string(x.cols()) +
            " columns, but the model takes inputs of width " + std::to_string(model.input_dim()));
  check(o.batch_size > 0, "recalibrate_batchnorm: batch_size must be at least 1, got 0");
}

}  // namespace

PopulationMoments layer_input_moments(Sequential& model, const Tensor& x, std::size_t index,
                                      const RecalibrateOptions& options) {
  check_request(model, x, options);
  check(index < model.num_layers(), "layer_input_moments: layer index " + std::to_string(index) +
                                        " is out of range; the model has " +
                                        std::to_string(model.num_layers()) + " layers");
  const std::size_t rows =
      options.batches == 0 ? x.rows() : std::min(x.rows(), options.batches * options.batch_size);
  const std::size_t width = model.layer(index).input_dim();
  PopulationMoments total{0, std::vector<double>(width, 0.0), {}};
  std::vector<double> m2(width, 0.0);
  Tensor batch;
  for (std::size_t start = 0; start < rows; start += options.batch_size) {
    const std::size_t n = std::min(options.batch_size, rows - start);
    batch.resize(n, x.cols());
    std::memcpy(batch.data(), x.row(start), n * x.cols() * sizeof(float));
    const Tensor* y = &batch;
    for (std::size_t i = 0; i < index; ++i) y = &model.layer(i).forward(*y, {Mode::Infer});
    merge_batch(*y, total, m2);
  }
  total.variance.resize(width);
  for (std::size_t j = 0; j < width; ++j)
    total.variance[j] = m2[j] / static_cast<double>(total.count);
  return total;
}

void recalibrate_batchnorm(Sequential& model, const Tensor& x, RecalibrateOptions options) {
  check_request(model, x, options);
  for (const auto& [index, bn] : model.layers_of_kind<BatchNormalization>()) {
    const PopulationMoments m = layer_input_moments(model, x, index, options);
    bn->set_population_statistics(m.mean, m.variance, static_cast<double>(m.count));
  }
}

PreciseBN::PreciseBN(int every_epochs, RecalibrateOptions options)
    : every_epochs_(every_epochs), options_(options) {
  check(every_epochs > 0,
        "PreciseBN: every_epochs must be at least 1, got " + std::to_string(every_epochs));
}

void PreciseBN::on_epoch_end(Sequential& model, int epoch, const Logs&) {
  if ((epoch + 1) % every_epochs_ != 0) return;
  check(x_ != nullptr, "PreciseBN: no training data was given to recalibrate on (set_data)");
  recalibrate_batchnorm(model, *x_, options_);
}

void PreciseBN::on_train_end(Sequential& model) {
  if (!model.optimizer().options().use_ema) return;
  check(x_ != nullptr, "PreciseBN: no training data was given to recalibrate on (set_data)");
  recalibrate_batchnorm(model, *x_, options_);
}

}  // namespace normlab
