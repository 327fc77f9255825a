// The training step allocates nothing once the first step has sized every buffer (the layer
// contract in core/layer.h). This binary replaces the global operator new with one that counts
// calls while counting is switched on, and runs training steps under it.
#include <atomic>
#include <cstdlib>
#include <new>

#include <doctest/doctest.h>

#include "normlab.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void* counted_allocation(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace

// The other forms of new (nothrow) call these in libstdc++; every delete frees malloc memory.
void* operator new(std::size_t size) {
  return counted_allocation(size);
}
void* operator new[](std::size_t size) {
  return counted_allocation(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {
using namespace normlab;

// Heap allocations made by f().
template <typename F>
long allocations_in(F&& f) {
  g_allocations = 0;
  g_counting = true;
  f();
  g_counting = false;
  return g_allocations.load();
}

// x ~ N(0, 1) (rows x width); y: Bernoulli(0.5) for classes == 2 (one column), else class
// indices in [0, classes) (one column) or their one-hot rows (one_hot).
Dataset make_data(std::size_t rows, std::size_t width, std::size_t classes, bool one_hot,
                  std::uint64_t seed) {
  Rng rng(seed);
  Dataset d;
  d.x = Tensor(rows, width);
  for (float& v : d.x) v = static_cast<float>(rng.normal());
  d.y = Tensor(rows, one_hot ? classes : 1);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t c = rng.below(classes);
    if (one_hot)
      d.y(i, c) = 1.0f;
    else
      d.y(i, 0) = static_cast<float>(c);
  }
  return d;
}

// Dense(hidden) -> BN -> ReLU blocks, then Dense(outputs, activation).
Sequential make_model(std::size_t width, std::vector<std::size_t> hidden, std::size_t outputs,
                      const std::string& activation, std::unique_ptr<Loss> loss,
                      const BatchNormConfig& bn = {},
                      std::unique_ptr<Optimizer> optimizer = std::make_unique<Adam>()) {
  Sequential model(width, 3);
  for (std::size_t h : hidden) {
    model.add(Dense(h));
    model.add(BatchNormalization(bn));
    model.add(Activation("relu"));
  }
  model.add(Dense(outputs, activation));
  model.compile(std::move(optimizer), std::move(loss), {"accuracy"});
  return model;
}

// 100 train_on_batch steps after the first allocate nothing, and the model still trains.
void check_train_on_batch(Sequential& model, const Dataset& d, const float* weights = nullptr) {
  const float first = model.train_on_batch(d.x, d.y, weights);
  float last = first;
  const long count = allocations_in([&] {
    for (int i = 0; i < 100; ++i) last = model.train_on_batch(d.x, d.y, weights);
  });
  CHECK(count == 0);
  CHECK(last < first);
}
}  // namespace

TEST_CASE("allocation: the counting operator new sees library allocations") {
  // Guards the tests below: a counter that never counts would pass them all.
  CHECK(allocations_in([] { Tensor t(3, 4); }) == 1);
}

TEST_CASE("allocation: train_on_batch of Dense-BN-ReLU-Dense with binary cross-entropy") {
  const Dataset d = make_data(32, 10, 2, false, 11);
  SUBCASE("from logits") {
    Sequential model = make_model(10, {64}, 1, "linear", make_loss("binary_crossentropy", true));
    check_train_on_batch(model, d);
  }
  SUBCASE("sigmoid output") {
    Sequential model = make_model(10, {64}, 1, "sigmoid", make_loss("binary_crossentropy"));
    check_train_on_batch(model, d);
  }
  SUBCASE("sample weights weighting the BN statistics") {
    Sequential model = make_model(10, {64}, 1, "linear", make_loss("binary_crossentropy", true),
                                  {.weighted_statistics = true});
    std::vector<float> w(32);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.5f + static_cast<float>(i % 3);
    check_train_on_batch(model, d, w.data());
  }
}

TEST_CASE("allocation: train_on_batch of a multiclass model with softmax cross-entropy") {
  SUBCASE("sparse labels, from logits") {
    const Dataset d = make_data(64, 24, 10, false, 12);
    Sequential model =
        make_model(24, {32, 32}, 10, "linear", make_loss("sparse_categorical_crossentropy", true));
    check_train_on_batch(model, d);
  }
  SUBCASE("one-hot labels, softmax output") {
    const Dataset d = make_data(64, 24, 10, true, 13);
    Sequential model =
        make_model(24, {32, 32}, 10, "softmax", make_loss("categorical_crossentropy"));
    check_train_on_batch(model, d);
  }
}

TEST_CASE("allocation: train_on_batch of Dense-LayerNormalization-ReLU-Dense") {
  const Dataset d = make_data(32, 10, 2, false, 15);
  for (const LayerNormConfig& c : {LayerNormConfig{}, LayerNormConfig{.rms_scaling = true}}) {
    Sequential model(10, 3);
    model.add(Dense(16));
    model.add(LayerNormalization(c));
    model.add(Activation("relu"));
    model.add(Dense(1));
    model.compile(std::make_unique<Adam>(), make_loss("binary_crossentropy", true));
    check_train_on_batch(model, d);
  }
}

TEST_CASE("allocation: every optimizer, with a schedule, clipping and weight decay") {
  const Dataset d = make_data(32, 10, 2, false, 14);
  const nlohmann::json cosine = {{"class_name", "CosineDecay"},
                                 {"config",
                                  {{"initial_learning_rate", 0.0},
                                   {"decay_steps", 200},
                                   {"warmup_target", 0.01},
                                   {"warmup_steps", 10}}}};
  for (const std::string name :
       {"Adam", "AdamW", "SGD", "RMSprop", "Nadam", "Adagrad", "Adadelta", "Adamax", "Lion"}) {
    for (const char* clip : {"clipnorm", "global_clipnorm", "clipvalue"}) {
      CAPTURE(name);
      CAPTURE(clip);
      nlohmann::json config = {{"learning_rate", cosine}, {clip, 0.5}, {"weight_decay", 0.01}};
      if (name == "Adam") config["amsgrad"] = true;
      if (name == "RMSprop") config["centered"] = true, config["momentum"] = 0.5;
      if (name == "Adadelta") config["learning_rate"] = 1.0;
      Sequential model =
          make_model(10, {64}, 1, "linear", make_loss("binary_crossentropy", true), {},
                     optimizer_from_json({{"class_name", name}, {"config", config}}, name));
      check_train_on_batch(model, d);
    }
  }
}

TEST_CASE("allocation: fit allocates per call, not per step") {
  // A fit allocates its copies of the data, the batch buffers, the history: a fixed number,
  // whatever the number of steps. 5 and 50 steps (the last one partial) must count the same.
  const Dataset small = make_data(75, 12, 10, false, 14), large = make_data(795, 12, 10, false, 15);
  Sequential model =
      make_model(12, {16}, 10, "linear", make_loss("sparse_categorical_crossentropy", true));
  // A callback receives the running logs after every step.
  struct CountSteps : Callback {
    int steps = 0;
    void on_batch_end(Sequential&, const StepInfo&) override { ++steps; }
  } counter;
  FitOptions options{.batch_size = 16, .epochs = 2, .verbose = 0};
  SUBCASE("without callbacks") {}
  SUBCASE("with a callback") {
    options.callbacks = {&counter};
  }
  model.fit(large, options);  // sizes every buffer for batches of 16
  const long few = allocations_in([&] { model.fit(small, options); });
  const long many = allocations_in([&] { model.fit(large, options); });
  CHECK(few == many);
  CHECK(few < 100);
  if (!options.callbacks.empty()) CHECK(counter.steps == 2 * 2 * 50 + 2 * 5);
}

TEST_CASE("allocation: train_on_batch with its products and passes split over threads") {
  // Products of >= 2^17 multiply-adds and passes over >= 2 x 16k floats are split (core/parallel.h)
  const int threads = num_threads();
  set_num_threads(3);
  const Dataset d = make_data(128, 256, 10, false, 14);
  Sequential model =
      make_model(256, {256, 256}, 10, "linear", make_loss("sparse_categorical_crossentropy", true));
  check_train_on_batch(model, d);
  set_num_threads(threads);
}
