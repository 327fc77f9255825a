#include "model/data_parallel.h"

namespace normlab {

std::span<const std::size_t> DataParallel::shard(std::span<const std::size_t> batch) const {
  const std::size_t n = batch.size(), p = static_cast<std::size_t>(communicator_->rank()),
                    processes = static_cast<std::size_t>(communicator_->size());
  const std::size_t begin = n * p / processes, end = n * (p + 1) / processes;
  return batch.subspan(begin, end - begin);
}

double DataParallel::global_rows(std::size_t rows) const {
  double total = static_cast<double>(rows);
  if (distributed()) communicator_->allreduce_sum(&total, 1);
  return total;
}

void DataParallel::begin_step(const std::vector<Metric>& metrics) {
  if (!distributed()) return;
  metrics_before_.resize(metrics.size());
  for (std::size_t i = 0; i < metrics.size(); ++i) metrics_before_[i] = metrics[i].state();
}

const Tensor& DataParallel::loss_gradient(const Tensor& dy, double rows, double global_rows) {
  if (!distributed()) return dy;
  scaled_dy_.resize(dy.rows(), dy.cols());
  const float share = static_cast<float>(rows / global_rows);  // n_p / N
  for (std::size_t k = 0; k < dy.size(); ++k) scaled_dy_[k] = dy[k] * share;
  return scaled_dy_;
}

float DataParallel::reduce(const std::vector<Variable>& trainable, float batch_loss, double rows,
                           double global_rows, std::vector<Metric>& metrics) {
  if (!distributed()) return batch_loss;
  // Packed: every gradient, then n_p L_p, then each metric's (correct, total) increments.
  std::size_t size = 1 + 2 * metrics.size();
  for (const auto& v : trainable) size += v.grad->size();
  sums_.resize(size);
  float* out = sums_.data();
  for (const auto& v : trainable)
    out = std::copy(v.grad->data(), v.grad->data() + v.grad->size(), out);
  *out++ = static_cast<float>(rows * batch_loss);
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const Metric::State now = metrics[i].state();
    *out++ = static_cast<float>(now[0] - metrics_before_[i][0]);
    *out++ = static_cast<float>(now[1] - metrics_before_[i][1]);
  }
  communicator_->allreduce_sum(sums_.data(), sums_.size());
  const float* in = sums_.data();
  for (const auto& v : trainable) {
    std::copy(in, in + v.grad->size(), v.grad->data());
    in += v.grad->size();
  }
  const float loss = static_cast<float>(*in++ / global_rows);
  for (std::size_t i = 0; i < metrics.size(); ++i, in += 2)
    metrics[i].set_state({metrics_before_[i][0] + in[0], metrics_before_[i][1] + in[1]});
  return loss;
}

void DataParallel::average_state(const std::vector<std::vector<Variable>>& layers) {
  if (!distributed()) return;
  std::size_t size = 0;
  for (const auto& layer : layers)
    for (const auto& v : layer)
      if (!v.trainable()) size += v.value->size();
  if (size == 0) return;
  state_.resize(size);
  double* out = state_.data();
  for (const auto& layer : layers)
    for (const auto& v : layer)
      if (!v.trainable()) out = std::copy(v.value->data(), v.value->data() + v.value->size(), out);
  communicator_->allreduce_sum(state_.data(), state_.size());
  // (a + ... + a) / P is a again: the sum of P <= 2^29 equal floats is exact in double.
  const double processes = communicator_->size();
  const double* in = state_.data();
  for (const auto& layer : layers)
    for (const auto& v : layer)
      if (!v.trainable())
        for (std::size_t k = 0; k < v.value->size(); ++k)
          (*v.value)[k] = static_cast<float>(*in++ / processes);
}

}  // namespace normlab
