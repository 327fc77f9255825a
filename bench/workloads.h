// The S / M / L training workloads both benchmark programs time (docs/performance.md): per
// hidden width h, Dense(h) -> BatchNormalization(momentum 0.99, epsilon 1e-3) -> ReLU; then a
// linear Dense(out) on logits: binary cross-entropy from logits (one output) or sparse
// categorical cross-entropy from logits (10 classes); Adam(lr 1e-3). Data: x ~ N(0, 1), labels
// Bernoulli(0.5) or uniform over the 10 classes.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "normlab.h"

namespace normlab::bench {

struct Workload {
  std::string name;
  std::size_t input;
  std::vector<std::size_t> hidden;
  std::size_t output;
  std::size_t batch;
};

inline const std::vector<Workload> kWorkloads = {
    {"S", 10, {64}, 1, 32},
    {"M", 256, {512, 512}, 10, 128},
    {"L", 1024, {2048, 2048}, 10, 256},
};

// The workload's model; its BatchNormalization layers take `bn` (Keras' defaults but momentum
// 0.99) and run on the processes of `comm` (one process when null).
inline Sequential make_model(const Workload& w, BatchNormConfig bn = {.momentum = 0.99f},
                             Communicator* comm = nullptr) {
  Sequential model(w.input, 1);
  if (comm) model.set_communicator(*comm);
  for (std::size_t h : w.hidden) {
    model.add(Dense(h));
    model.add(BatchNormalization(bn));
    model.add(Activation("relu"));
  }
  model.add(Dense(w.output));
  const bool binary = w.output == 1;
  model.compile(
      std::make_unique<Adam>(AdamConfig{.learning_rate = 1e-3f}),
      make_loss(binary ? "binary_crossentropy" : "sparse_categorical_crossentropy", true));
  return model;
}

// `rows` rows of the workload's data, drawn from the stream `seed`.
inline void make_batch(const Workload& w, std::size_t rows, std::uint64_t seed, Tensor& x,
                       Tensor& y) {
  Rng rng(seed);
  x = Tensor(rows, w.input);
  for (float& v : x) v = static_cast<float>(rng.normal());
  y = Tensor(rows, 1);
  for (float& v : y)
    v = w.output == 1 ? (rng.uniform() < 0.5 ? 1.0f : 0.0f) : static_cast<float>(rng.below(10));
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t r = v.size();
  return r % 2 ? v[r / 2] : 0.5 * (v[r / 2 - 1] + v[r / 2]);
}

}  // namespace normlab::bench
