// Data-parallel training over MPI against one process with the whole batch. Run under
//   mpirun -np P normlab_mpi_tests        (P = 2 and 3; tests/CMakeLists.txt registers both)
// Every process runs every case in the same order (the collectives must match). The
// single-process reference is computed on each process with local_communicator(), so it is the
// global-batch run itself, not the code under test split another way.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "core/communicator.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "model/sequential.h"
#include "optim/adam.h"

using namespace normlab;

namespace {

Communicator* world = nullptr;

// Rows [floor(N p / P), floor(N (p+1) / P)) of t: this process's shard (model/data_parallel.h).
Tensor shard_of(const Tensor& t) {
  const std::size_t n = t.rows(), p = world->rank(), size = world->size();
  const std::size_t begin = n * p / size, end = n * (p + 1) / size;
  Tensor s(end - begin, t.cols());
  std::copy(t.row(begin), t.row(end), s.data());
  return s;
}

Tensor random_tensor(std::size_t rows, std::size_t cols, std::uint64_t seed, double shift = 0.0) {
  Rng rng(seed);
  Tensor t(rows, cols);
  for (std::size_t k = 0; k < t.size(); ++k) t[k] = static_cast<float>(rng.normal() + shift);
  return t;
}

// |a - b| <= atol + rtol |b| for every element.
void check_close(const float* a, const float* b, std::size_t n, const char* what,
                 double atol = 1e-5, double rtol = 1e-4) {
  std::size_t bad = 0;
  for (std::size_t k = 0; k < n; ++k)
    if (!(std::abs(a[k] - b[k]) <= atol + rtol * std::abs(b[k]))) ++bad;
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << n << " elements differ");
}

// A binary classifier whose BatchNormalization is (or is not) synchronized; the same seed gives
// the same initial weights on every process.
Sequential make_model(bool synchronized, Communicator& comm) {
  Sequential model(5, /*seed=*/3);
  model.set_communicator(comm);
  model.add(Dense(8));
  model.add(BatchNormalization({.momentum = 0.9f, .synchronized = synchronized}));
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  return model;
}

// Every variable of the model, in order.
std::vector<float> all_values(Sequential& model) {
  std::vector<float> values;
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    for (const auto& v : model.layer_variables(i))
      values.insert(values.end(), v.value->data(), v.value->data() + v.value->size());
  return values;
}

// After every step: max over processes == min over processes, element for element.
struct SameOnEveryProcess : Callback {
  std::size_t steps = 0, differing = 0;
  void on_batch_end(Sequential& model, const StepInfo&) override {
    const std::vector<float> values = all_values(model);
    std::vector<double> high(values.begin(), values.end()), low = high;
    world->allreduce_max(high.data(), high.size());
    world->allreduce_min(low.data(), low.size());
    ++steps;
    for (std::size_t k = 0; k < high.size(); ++k) differing += high[k] != low[k];
  }
};

// 47 rows, batch 10: batches of 10, 10, 10, 10 and 7, split unevenly over 2 and 3 processes.
struct Data {
  Tensor x = random_tensor(47, 5, 11, 0.5);
  Tensor y{47, 1};
  Data() {
    for (std::size_t i = 0; i < 47; ++i) y(i, 0) = x(i, 0) + 0.5f * x(i, 1) > 0.5f ? 1.0f : 0.0f;
  }
};

FitOptions fit_options(Callback* callback) {
  FitOptions o{.batch_size = 10, .epochs = 3, .shuffle = true, .seed = 5, .verbose = 0};
  if (callback) o.callbacks.push_back(callback);
  return o;
}

}  // namespace

TEST_CASE("synchronized BatchNormalization: shards give the whole batch's outputs and gradients") {
  // L = sum_ij w_ij y_ij over the batch, so dL/dy = w, each process holding its rows of w.
  const std::size_t n = 11, d = 4;  // 11 rows: shards of 5 + 6, or 3 + 4 + 4
  const Tensor x = random_tensor(n, d, 1, 2.0), w = random_tensor(n, d, 2);
  Rng rng_whole(7), rng_shard(7);
  BatchNormalization whole({.momentum = 0.8f}), part({.momentum = 0.8f, .synchronized = true});
  whole.build(d, rng_whole);
  part.build(d, rng_shard);
  const Tensor y_whole = whole.forward(x, {Mode::Train});
  const Tensor dx_whole = whole.backward(w);
  const Tensor y_part = part.forward(shard_of(x), {.mode = Mode::Train, .communicator = world});
  const Tensor dx_part = part.backward(shard_of(w));
  const Tensor y_expected = shard_of(y_whole), dx_expected = shard_of(dx_whole);
  check_close(y_part.data(), y_expected.data(), y_part.size(), "y");
  check_close(dx_part.data(), dx_expected.data(), dx_part.size(), "dx");
  Tensor dgamma = part.dgamma, dbeta = part.dbeta;  // this shard's sums; the total is the whole's
  world->allreduce_sum(dgamma.data(), d);
  world->allreduce_sum(dbeta.data(), d);
  check_close(dgamma.data(), whole.dgamma.data(), d, "dgamma");
  check_close(dbeta.data(), whole.dbeta.data(), d, "dbeta");
  check_close(part.moving_mean.data(), whole.moving_mean.data(), d, "moving_mean");
  check_close(part.moving_variance.data(), whole.moving_variance.data(), d, "moving_variance");
}

TEST_CASE("fit over P processes with synchronized BatchNormalization equals one process") {
  const Data data;
  Sequential reference = make_model(true, local_communicator());
  const History one = reference.fit(data.x, data.y, fit_options(nullptr));

  SameOnEveryProcess same;
  Sequential model = make_model(true, *world);
  const History many = model.fit(data.x, data.y, fit_options(&same));
  CHECK(same.steps == 15);
  CHECK(same.differing == 0);
  const std::vector<float> a = all_values(model), b = all_values(reference);
  REQUIRE(a.size() == b.size());
  check_close(a.data(), b.data(), a.size(), "weights and moving statistics", 1e-4, 1e-3);
  // The reported epoch loss and accuracy are the global batch's.
  for (const char* key : {"loss", "accuracy"})
    for (std::size_t e = 0; e < 3; ++e)
      CHECK(many[key][e] == doctest::Approx(one[key][e]).epsilon(1e-4));
}

TEST_CASE("without synchronized each process normalizes its shard; moving averages are averaged") {
  // One step on the first batch of 10 rows (no shuffle). Reference: for each shard, one
  // process's training forward on that shard alone, then the mean of the moving statistics.
  const Data data;
  FitOptions o = fit_options(nullptr);
  o.epochs = 1;
  o.steps_per_epoch = 1;
  o.shuffle = false;
  SameOnEveryProcess same;
  o.callbacks.push_back(&same);
  Sequential model = make_model(false, *world);
  model.fit(data.x, data.y, o);
  CHECK(same.differing == 0);

  const std::size_t size = world->size();
  std::vector<double> mean(8, 0.0), variance(8, 0.0);
  for (std::size_t p = 0; p < size; ++p) {
    Sequential alone = make_model(false, local_communicator());
    const std::size_t begin = 10 * p / size, end = 10 * (p + 1) / size;
    Tensor rows(end - begin, 5);
    std::copy(data.x.row(begin), data.x.row(end), rows.data());
    alone.forward(rows, {Mode::Train});
    const auto& bn = static_cast<const BatchNormalization&>(alone.layer(1));
    for (std::size_t j = 0; j < 8; ++j) {
      mean[j] += bn.moving_mean[j] / static_cast<double>(size);
      variance[j] += bn.moving_variance[j] / static_cast<double>(size);
    }
  }
  const auto& bn = static_cast<const BatchNormalization&>(model.layer(1));
  const std::vector<float> m(mean.begin(), mean.end()), v(variance.begin(), variance.end());
  check_close(bn.moving_mean.data(), m.data(), 8, "moving_mean");
  check_close(bn.moving_variance.data(), v.data(), 8, "moving_variance");
  // The shards' statistics are not the batch's: the synchronized run ends elsewhere.
  Sequential synced = make_model(true, *world);
  synced.fit(data.x, data.y, o);
  const auto& sbn = static_cast<const BatchNormalization&>(synced.layer(1));
  double gap = 0.0;
  for (std::size_t j = 0; j < 8; ++j)
    gap += std::abs(sbn.moving_variance[j] - bn.moving_variance[j]);
  CHECK(gap > 1e-3);
}

TEST_CASE("a batch smaller than the number of processes is a clear error") {
  Sequential model = make_model(true, *world);
  const Tensor x = random_tensor(1, 5, 3), y(1, 1);
  CHECK_THROWS_WITH(model.fit(x, y, fit_options(nullptr)),
                    doctest::Contains("cannot be split over"));
}

int main(int argc, char** argv) {
  World processes(argc, argv);
  world = &processes.communicator();
  if (world->size() < 2) {
    std::fprintf(stderr, "run under mpirun with 2 or more processes: mpirun -np 2 %s\n", argv[0]);
    return 2;
  }
  doctest::Context context(argc, argv);
  if (world->rank() != 0) context.setOption("no-intro", true);
  int failed = context.run();
  // Every process's result counts: the run fails if any process failed.
  double any = failed != 0;
  world->allreduce_max(&any, 1);
  return any != 0.0 ? 1 : 0;
}
