// Sequential's training and inference loops: fit, train_on_batch, evaluate, predict.
#include <cmath>

#include "core/error.h"
#include "data/batcher.h"
#include "model/progress_bar.h"
#include "model/sequential.h"

namespace normlab {

namespace {
// The class a target row names: its value (binary, sparse) or its arg-max (one-hot).
std::size_t class_of(const Tensor& y, std::size_t row) {
  if (y.cols() == 1) return static_cast<std::size_t>(std::lround(y(row, 0)));
  const float* r = y.row(row);
  return static_cast<std::size_t>(std::max_element(r, r + y.cols()) - r);
}

// Keras' class_weight: every row's weight is multiplied by the weight of its class.
void apply_class_weight(Dataset& data,
                        const std::vector<std::pair<std::size_t, float>>& class_weight) {
  if (class_weight.empty()) return;
  if (data.sample_weight.empty()) data.sample_weight.assign(data.size(), 1.0f);
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::size_t c = class_of(data.y, i);
    float w = 1.0f;
    bool found = false;
    for (const auto& [cls, weight] : class_weight)
      if (cls == c) w = weight, found = true;
    check(found, "fit: class_weight has no entry for class " + std::to_string(c) + " (row " +
                     std::to_string(i) + ")");
    data.sample_weight[i] *= w;
  }
}

// epoch_logs(loss_sum, rows, "") written into `logs`: its keys once per fit, then the values
// in place, so that a step reporting to callbacks allocates nothing.
void refresh_running_logs(Logs& logs, double loss_sum, double rows,
                          const std::vector<Metric>& metrics) {
  if (logs.size() != metrics.size() + 1) {
    logs.assign(1, {"loss", 0.0f});
    for (const auto& m : metrics) logs.emplace_back(m.name(), 0.0f);
  }
  logs[0].second = static_cast<float>(loss_sum / rows);
  for (std::size_t i = 0; i < metrics.size(); ++i) logs[i + 1].second = metrics[i].result();
}
}  // namespace

void Sequential::check_data(const Tensor& x, const Tensor* y, const std::string& what) const {
  check(x.rows() > 0, what + ": no rows");
  check(x.cols() == input_dim_, what + ": " + std::to_string(x.cols()) +
                                    " feature columns, but the model expects inputs of width " +
                                    std::to_string(input_dim_));
  check_finite(x, what + " (inputs)");
  if (y == nullptr) return;
  check(y->rows() == x.rows(), what + ": " + std::to_string(x.rows()) + " input rows but " +
                                   std::to_string(y->rows()) + " target rows");
  loss_->check_targets(*y, output_dim());
}

float Sequential::train_step(const Tensor& x, const Tensor& y, const float* sample_weight,
                             double global_rows) {
  // The rows' weights also weight BatchNormalization's statistics where weighted_statistics is
  // on (the step context carries them to every layer).
  const Tensor& pred = forward(
      x, Mode::Train,
      sample_weight ? std::span<const float>(sample_weight, x.rows()) : std::span<const float>());
  const float batch_loss = loss_->forward(pred, y, sample_weight);
  parallel_.begin_step(metrics_);
  for (auto& m : metrics_) m.update(pred, y, sample_weight);
  zero_grad();
  // Data-parallel (several processes): the gradients of the global loss, summed over shards.
  const double rows = static_cast<double>(x.rows());
  backward(parallel_.loss_gradient(loss_->backward(), rows, global_rows));
  const float loss =
      parallel_.reduce(trainable_variables(), batch_loss, rows, global_rows, metrics_);
  optimizer_->apply(trainable_variables());
  parallel_.average_state(variables_);
  return loss;
}

float Sequential::train_on_batch(const Tensor& x, const Tensor& y, const float* sample_weight) {
  check_compiled("train_on_batch");
  if (x.rows() != y.rows())
    throw Error("train_on_batch: " + std::to_string(x.rows()) + " input rows but " +
                std::to_string(y.rows()) + " target rows");
  for (auto& m : metrics_) m.reset();
  return train_step(x, y, sample_weight, parallel_.global_rows(x.rows()));
}

Logs Sequential::epoch_logs(double loss_sum, double rows, const std::string& prefix) const {
  Logs logs{{prefix + "loss", static_cast<float>(loss_sum / rows)}};
  for (const auto& m : metrics_) logs.emplace_back(prefix + m.name(), m.result());
  return logs;
}

History Sequential::fit(const Tensor& x, const Tensor& y, FitOptions options) {
  Dataset data{x, y, options.sample_weight};
  options.sample_weight.clear();
  return fit(data, std::move(options));
}

History Sequential::fit(const Dataset& data_in, FitOptions o) {
  check_compiled("fit");
  check(o.batch_size > 0, "fit: batch_size must be positive, got 0");
  check(o.epochs >= 0, "fit: epochs must be >= 0, got " + std::to_string(o.epochs));
  data_in.check_consistent("training data");
  Dataset train = data_in;
  std::optional<Dataset> validation = std::move(o.validation_data);
  if (o.validation_split > 0.0) {
    check(!validation, "fit: give validation_data or validation_split, not both");
    std::tie(train, validation) = split_validation(data_in, o.validation_split);
  }
  apply_class_weight(train, o.class_weight);
  check_data(train.x, &train.y, "training data");
  if (validation) {
    validation->check_consistent("validation data");
    check_data(validation->x, &validation->y, "validation data");
  }

  Batcher batcher(train.size(), o.batch_size, o.shuffle, o.seed);
  const std::size_t batches = o.steps_per_epoch ? o.steps_per_epoch : batcher.num_batches();
  FitState s;  // the loop's position, which fit_state() reports
  if (o.resume_from) {
    s = std::move(*o.resume_from);
    check_resumable(s, o.epochs, batches);
    batcher.set_state(s.batcher);
    for (std::size_t i = 0; i < metrics_.size(); ++i) metrics_[i].set_state(s.metrics[i]);
  }
  // Data-parallel: every process needs a row of every batch, the last (smallest) one included.
  const std::size_t processes = static_cast<std::size_t>(communicator().size());
  const std::size_t smallest = train.size() - (batcher.num_batches() - 1) * o.batch_size;
  if (smallest < processes)
    throw Error("fit: a batch of " + std::to_string(smallest) + " rows cannot be split over " +
                std::to_string(processes) + " processes (each needs at least one row); use " +
                "at most " + std::to_string(smallest) + " processes or another batch_size");
  ProgressBar progress(o.verbose);
  std::vector<Callback*> callbacks;
  if (o.verbose > 0 && communicator().rank() == 0) callbacks.push_back(&progress);
  callbacks.insert(callbacks.end(), o.callbacks.begin(), o.callbacks.end());

  // fit_state() reads the loop's position while fit runs, and only then.
  struct Running {
    Sequential& model;
    ~Running() { model.fit_position_ = nullptr, model.fit_batcher_ = nullptr; }
  } running{*this};
  fit_position_ = &s;
  fit_batcher_ = &batcher;

  Dataset batch;
  StepInfo step;
  stop_training = false;
  for (auto* c : callbacks) c->on_train_begin(*this, o.epochs);
  while (s.epoch < o.epochs && !stop_training) {
    for (auto* c : callbacks) c->on_epoch_begin(*this, s.epoch, batches);
    if (s.batch == 0) {  // a resumed epoch keeps its sums and metrics
      for (auto& m : metrics_) m.reset();
      s.loss_sum = s.rows = 0.0;
    }
    while (s.batch < batches && !stop_training) {
      if (!batcher.in_epoch()) batcher.begin_epoch();
      const auto rows = *batcher.next();  // the whole batch; this process trains on its shard
      Batcher::gather(train, parallel_.shard(rows), batch);
      const float* weights = batch.sample_weight.empty() ? nullptr : batch.sample_weight.data();
      const double n = static_cast<double>(rows.size());
      // Metrics accumulate over the epoch: no reset between steps, unlike train_on_batch.
      const float batch_loss = train_step(batch.x, batch.y, weights, n);

      s.loss_sum += batch_loss * n;  // Keras weights each batch's loss by its row count
      s.rows += n;
      step.epoch = s.epoch;
      step.batch = s.batch++;
      step.batches = batches;
      step.step = ++s.step;
      step.rows = rows.size();
      step.batch_loss = batch_loss;
      if (!callbacks.empty()) refresh_running_logs(step.running, s.loss_sum, s.rows, metrics_);
      for (auto* c : callbacks) c->on_batch_end(*this, step);
    }
    Logs logs = epoch_logs(s.loss_sum, s.rows, "");
    if (validation) {
      Logs val = evaluate(validation->x, validation->y, o.batch_size);
      for (auto& [name, value] : val) logs.emplace_back("val_" + name, value);
      for (auto& m : metrics_) m.reset();
    }
    s.history.append(logs);
    const int finished = s.epoch++;
    s.batch = 0;
    for (auto* c : callbacks) c->on_epoch_end(*this, finished, logs);
  }
  // Keras swaps an optimizer's moving averages of the weights in once training ends (use_ema),
  // before on_train_end, so a PreciseBN callback recalibrates for the averaged weights.
  if (o.epochs > 0) optimizer().finalize_variable_values(trainable_variables());
  for (auto* c : callbacks) c->on_train_end(*this);
  return std::move(s.history);
}

FitState Sequential::fit_state() const {
  check(fit_position_ != nullptr, "fit_state: no fit is running");
  FitState s = *fit_position_;
  s.batcher = fit_batcher_->state();
  s.metrics.clear();
  for (const auto& m : metrics_) s.metrics.push_back(m.state());
  return s;
}

void Sequential::check_resumable(const FitState& s, int epochs, std::size_t batches) const {
  const std::string where = "fit: resume_from: ";
  check(s.epoch >= 0 && s.epoch <= epochs, where + "epoch " + std::to_string(s.epoch) +
                                               " is outside the fit's " + std::to_string(epochs) +
                                               " epochs");
  check(s.batch <= batches, where + "batch " + std::to_string(s.batch) + " is past the " +
                                std::to_string(batches) + " batches of an epoch");
  check(s.history.epochs() == static_cast<std::size_t>(s.epoch),
        where + "the history holds " + std::to_string(s.history.epochs()) + " epochs, but epoch " +
            std::to_string(s.epoch) + " is in progress");
  check(s.metrics.size() == metrics_.size(), where + std::to_string(s.metrics.size()) +
                                                 " metric states for the model's " +
                                                 std::to_string(metrics_.size()) + " metrics");
}

Logs Sequential::evaluate(const Tensor& x, const Tensor& y, std::size_t batch_size) {
  check_compiled("evaluate");
  check(batch_size > 0, "evaluate: batch_size must be positive, got 0");
  check_data(x, &y, "evaluation data");
  for (auto& m : metrics_) m.reset();
  Batcher batcher(x.rows(), batch_size, false, 0);
  batcher.begin_epoch();
  Tensor xb, yb;
  double loss_sum = 0.0;
  while (auto rows = batcher.next()) {
    Batcher::gather(x, rows->data(), rows->size(), xb);
    Batcher::gather(y, rows->data(), rows->size(), yb);
    const Tensor& pred = forward(xb, Mode::Infer);
    loss_sum += static_cast<double>(loss_->forward(pred, yb)) * static_cast<double>(xb.rows());
    for (auto& m : metrics_) m.update(pred, yb);
  }
  return epoch_logs(loss_sum, static_cast<double>(x.rows()), "");
}

Tensor Sequential::predict(const Tensor& x, std::size_t batch_size) {
  check(batch_size > 0, "predict: batch_size must be positive, got 0");
  check_data(x, nullptr, "predict input");
  Tensor out(x.rows(), output_dim());
  for (std::size_t begin = 0; begin < x.rows(); begin += batch_size) {
    const std::size_t n = std::min(batch_size, x.rows() - begin);
    predict_buffer_.resize(n, x.cols());
    std::copy(x.row(begin), x.row(begin) + n * x.cols(), predict_buffer_.data());
    const Tensor& y = forward(predict_buffer_, Mode::Infer);
    std::copy(y.data(), y.data() + y.size(), out.row(begin));
  }
  return out;
}

}  // namespace normlab
