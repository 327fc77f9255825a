#include "model/bn_diagnostics.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "layers/batch_normalization.h"

namespace normlab {

namespace {

std::vector<double> as_doubles(const Tensor& t) {
  return {t.begin(), t.end()};
}

// t, the initial weight and the window of one layer.
void fill_averaging(const BatchNormalization& bn, std::optional<double> t,
                    BatchNormDiagnostics& d) {
  const BatchNormConfig& c = bn.config();
  d.momentum = c.momentum;
  d.updates = t;
  if (c.cumulative_average) {
    d.averaging = "cumulative";
    d.effective_window = t;
    if (t) d.initial_weight = *t >= 1.0 ? 0.0 : 1.0;
    return;
  }
  d.averaging = c.moving_average_debias ? "debiased" : "exponential";
  d.effective_window = 1.0 / (1.0 - double{c.momentum});
  if (t) d.initial_weight = c.moving_average_debias && *t >= 1.0 ? 0.0 : std::pow(c.momentum, *t);
}

// Loss and metrics of (x, y) in batches of batch_size, in order, in one mode.
Logs evaluate_in(Sequential& model, const Tensor& x, const Tensor& y, std::size_t batch_size,
                 Mode mode) {
  for (auto& m : model.metrics()) m.reset();
  double loss_sum = 0.0;
  Tensor xb, yb;
  for (std::size_t begin = 0; begin < x.rows(); begin += batch_size) {
    const std::size_t n = std::min(batch_size, x.rows() - begin);
    xb.resize(n, x.cols());
    yb.resize(n, y.cols());
    std::memcpy(xb.data(), x.row(begin), n * x.cols() * sizeof(float));
    std::memcpy(yb.data(), y.row(begin), n * y.cols() * sizeof(float));
    const Tensor& pred = model.forward(xb, mode);
    loss_sum += static_cast<double>(model.loss().forward(pred, yb)) * static_cast<double>(n);
    for (auto& m : model.metrics()) m.update(pred, yb);
  }
  Logs logs{{"loss", static_cast<float>(loss_sum / static_cast<double>(x.rows()))}};
  for (const auto& m : model.metrics()) logs.emplace_back(m.name(), m.result());
  return logs;
}

}  // namespace

std::vector<BatchNormDiagnostics> batchnorm_diagnostics(
    Sequential& model, const Tensor& x, const std::map<std::string, double>& recorded_updates) {
  std::vector<BatchNormDiagnostics> out;
  for (const auto& [k, bn] : model.layers_of_kind<BatchNormalization>()) {
    std::optional<double> t = bn->update_count();
    if (const auto it = recorded_updates.find(bn->name()); !t && it != recorded_updates.end())
      t = it->second;
    BatchNormDiagnostics d;
    d.index = k;
    d.name = bn->name();
    fill_averaging(*bn, t, d);
    d.moving_mean = as_doubles(bn->moving_mean);
    d.moving_variance = as_doubles(bn->moving_variance);
    const PopulationMoments m = layer_input_moments(model, x, k, {.batch_size = 256});
    d.rows = m.count;
    d.population_mean = m.mean;
    const double correction = bn->variance_estimator(static_cast<double>(m.count));
    for (const double v : m.variance) d.population_variance.push_back(v * correction);
    out.push_back(std::move(d));
  }
  return out;
}

ModeComparison compare_modes(Sequential& model, const Tensor& x, const Tensor& y,
                             std::size_t batch_size) {
  check(model.compiled(), "compare_modes: the model has no loss (it was saved uncompiled)");
  check(batch_size > 0, "compare_modes: batch_size must be positive, got 0");
  check(x.rows() == y.rows() && x.rows() > 0,
        "compare_modes: x and y need the same, positive number of rows; got " +
            std::to_string(x.rows()) + " and " + std::to_string(y.rows()));
  // Training forwards update the moving statistics and counters: keep them to put them back.
  std::vector<std::pair<Tensor*, Tensor>> state;
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    for (const Variable& v : model.layer_variables(i))
      if (!v.trainable()) state.emplace_back(v.value, *v.value);

  const auto restore = [&] {
    for (auto& [value, saved] : state) *value = saved;
  };
  ModeComparison result;
  try {
    result.training = evaluate_in(model, x, y, batch_size, Mode::Train);
  } catch (...) {
    restore();
    throw;
  }
  restore();
  result.inference = evaluate_in(model, x, y, batch_size, Mode::Infer);
  return result;
}

void BatchNormUpdateCounter::on_batch_end(Sequential& model, const StepInfo&) {
  for (const auto& [index, bn] : model.layers_of_kind<BatchNormalization>())
    if (bn->updated_statistics()) counts_[bn->name()] += 1.0;
}

}  // namespace normlab
