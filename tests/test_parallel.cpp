// normlab's threads (core/parallel.h): every part runs once, whatever the team size; nested and
// concurrent calls finish; split products agree with the reference and repeat bit for bit; split
// elementwise passes give the same bits as one thread.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

#include "gradient_check.h"
#include "model_weights.h"
#include "normlab.h"

using namespace normlab;
using normlab::gradient_check::random_tensor;
using normlab::testing::all_weights;

namespace {

// Sets the thread count for one test, and puts the old one back.
struct Threads {
  int before = num_threads();
  explicit Threads(int n) { set_num_threads(n); }
  ~Threads() { set_num_threads(before); }
};

// How often parallel_for's body saw each index of [0, n); a range whose inner end is off a
// 16-unit boundary (when every range can hold 16 units) counts as a visit of index 0. Parts
// record, the calling test checks: doctest's assertions are for one thread.
std::vector<int> visits(std::size_t n, std::size_t grain, std::size_t* ranges = nullptr) {
  std::vector<std::atomic<int>> seen(n);
  std::atomic<std::size_t> count{0};
  const bool aligned = n >= 16 * parts_for(n, grain);
  parallel_for(n, grain, [&](std::size_t begin, std::size_t end) {
    ++count;
    if (aligned && end != n && end % 16 != 0) ++seen[0];
    for (std::size_t i = begin; i < end; ++i) ++seen[i];
  });
  if (ranges) *ranges = count;
  return std::vector<int>(seen.begin(), seen.end());
}

}  // namespace

TEST_CASE("set_num_threads sets the team size; 0 leaves it alone") {
  Threads t(1);
  CHECK(num_threads() == 1);
  set_num_threads(0);
  CHECK(num_threads() == 1);
  set_num_threads(3);
  CHECK(num_threads() == 3);
}

TEST_CASE("parallel_for visits every index once, in min(threads, n / grain) ranges") {
  for (int threads : {1, 2, 3, 4}) {
    Threads t(threads);
    for (std::size_t n : {0, 1, 15, 16, 17, 100, 1000, 4099}) {
      for (std::size_t grain : {1, 16, 300}) {
        CAPTURE(threads);
        CAPTURE(n);
        CAPTURE(grain);
        std::size_t ranges = 0;
        CHECK(visits(n, grain, &ranges) == std::vector<int>(n, 1));
        CHECK(ranges == (n == 0 ? 0 : parts_for(n, grain)));  // no range is empty
        CHECK(parts_for(n, grain) ==
              std::max<std::size_t>(1, std::min<std::size_t>(threads, n / grain)));
      }
    }
  }
}

TEST_CASE("run_parts runs more parts than threads, each once") {
  Threads t(2);
  std::vector<std::atomic<int>> seen(7);
  run_parts(
      7,
      [](const void* s, std::size_t p) {
        ++(*static_cast<std::vector<std::atomic<int>>*>(const_cast<void*>(s)))[p];
      },
      &seen);
  for (const auto& s : seen) CHECK(s == 1);
}

TEST_CASE("A parallel_for inside a part, and calls from two threads at once, finish") {
  Threads t(2);
  std::atomic<long> sum{0};
  parallel_for(64, 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i)
      parallel_for(64, 1, [&](std::size_t b, std::size_t e) { sum += static_cast<long>(e - b); });
  });
  CHECK(sum == 64 * 64);

  std::vector<int> a, b;
  std::thread other([&] {
    for (int i = 0; i < 200; ++i) a = visits(5000, 16);
  });
  for (int i = 0; i < 200; ++i) b = visits(5000, 16);
  other.join();
  CHECK(a == std::vector<int>(5000, 1));
  CHECK(b == std::vector<int>(5000, 1));
}

TEST_CASE("gemm split over threads matches the reference, and repeats bit for bit") {
  // OpenBLAS' sums depend on the row count of a call (as they do on its own thread count), so
  // a split product agrees with the unsplit one to rounding, and with itself exactly.
  struct Shape {
    bool trans_a, trans_b;
    std::size_t m, n, k;
    float beta;
  };
  for (const Shape& s :
       {Shape{false, false, 128, 512, 256, 0.0f}, Shape{true, false, 512, 512, 128, 1.0f},
        Shape{false, true, 128, 512, 512, 0.0f}, Shape{true, true, 97, 301, 203, 0.5f},
        Shape{false, false, 1000, 10, 512, 1.0f}}) {
    CAPTURE(s.m);
    const std::size_t lda = s.trans_a ? s.m : s.k, ldb = s.trans_b ? s.k : s.n;
    Rng rng(1);
    const Tensor a = random_tensor(s.m, s.k, rng, -1.0, 1.0);
    const Tensor b = random_tensor(s.k, s.n, rng, -1.0, 1.0);
    const Tensor c0 = random_tensor(s.m, s.n, rng, -1.0, 1.0);
    const GemmArgs args{.trans_a = s.trans_a,
                        .trans_b = s.trans_b,
                        .m = s.m,
                        .n = s.n,
                        .k = s.k,
                        .a = a.data(),
                        .lda = lda,
                        .b = b.data(),
                        .ldb = ldb,
                        .beta = s.beta,
                        .ldc = s.n};
    Tensor expected = c0;
    GemmArgs reference = args;
    reference.c = expected.data();
    gemm_reference(reference);
    auto product = [&](int threads) {
      Threads t(threads);
      Tensor c = c0;
      GemmArgs g = args;
      g.c = c.data();
      gemm(g);
      return c;
    };
    for (int threads : {2, 3}) {
      CAPTURE(threads);
      const auto c = product(threads);
      CHECK(product(threads) == c);
      double worst = 0.0;
      for (std::size_t i = 0; i < c.size(); ++i)
        worst = std::max(worst, std::fabs(static_cast<double>(c[i]) - expected[i]));
      CHECK(worst < 1e-4 * static_cast<double>(s.k));
    }
  }
}

TEST_CASE("The elementwise passes give the same bits on any number of threads") {
  // Adam's and SGD's updates and Tensor::fill split by element: every element's arithmetic is
  // the same however the range is cut.
  const std::size_t n = 100'003;  // several grains, and a remainder
  Rng rng(5);
  const Tensor w0 = random_tensor(1, n, rng, -1.0, 1.0), g0 = random_tensor(1, n, rng, -1.0, 1.0);
  auto run = [&](int threads, Optimizer& opt) {
    Threads t(threads);
    Tensor w = w0, g = g0;
    const std::vector<Variable> vars{{"w", &w, &g}};
    for (int step = 0; step < 3; ++step) opt.apply(vars);
    g.fill(0.25f);
    CHECK(std::all_of(g.begin(), g.end(), [](float v) { return v == 0.25f; }));
    return w;
  };
  Adam a1, a2, a3;
  const auto adam = run(1, a1);
  CHECK(run(2, a2) == adam);
  CHECK(run(3, a3) == adam);
  SGD s1({.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true});
  SGD s3({.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true});
  CHECK(run(3, s3) == run(1, s1));
}

TEST_CASE(
    "BatchNormalization, activations and Dense's bias give the same bits on any thread count") {
  // 300 x 200 = 60k elements: their passes split into up to 3 feature or row ranges.
  const std::size_t n = 300, d = 200;
  Rng rng(7);
  const Tensor x = random_tensor(n, d, rng, -2.0, 2.0), dy = random_tensor(n, d, rng, -1.0, 1.0);
  auto run = [&](int threads, Layer& layer) {
    Threads t(threads);
    Rng init(1);
    layer.build(d, init);
    std::vector<Tensor> out{layer.forward(x, {Mode::Train}), layer.backward(dy)};
    for (const auto& v : layer.variables())
      if (v.grad) out.push_back(*v.grad);
    out.push_back(layer.forward(x, {Mode::Infer}));
    for (const auto& v : layer.variables()) out.push_back(*v.value);
    return out;
  };
  const BatchNormConfig options[] = {
      {}, {.virtual_batch_size = 100}, {.renorm = true, .renorm_clipping = {.rmax = 2, .dmax = 1}}};
  for (const auto& config : options) {
    BatchNormalization b1(config), b3(config);
    CHECK(run(3, b3) == run(1, b1));
  }
  for (const char* kind : {"relu", "sigmoid", "tanh", "softmax"}) {
    CAPTURE(kind);
    Activation a1(kind), a3(kind);
    CHECK(run(3, a3) == run(1, a1));
  }
  Dense dense1(d), dense3(d);  // bias rows, db; its products may differ in the last bits
  const auto one = run(1, dense1), three = run(3, dense3);
  CHECK(three[3] == one[3]);  // db
}

TEST_CASE("Training repeats bit for bit on 2 and 3 threads, and agrees with 1 thread") {
  const Dataset data = make_regression(512, 4, 256, 10);
  auto train = [&](int threads) {
    Threads t(threads);
    Sequential model(256, 7);
    for (int i = 0; i < 2; ++i) {
      model.add(Dense(256));
      model.add(BatchNormalization());
      model.add(Activation("relu"));
    }
    model.add(Dense(10));
    model.compile(Adam(), "mse");
    const History h = model.fit(data, {.batch_size = 128, .epochs = 2, .seed = 3, .verbose = 0});
    return std::pair{all_weights(model), h["loss"].back()};
  };
  const auto [one, one_loss] = train(1);
  for (int threads : {2, 3}) {
    CAPTURE(threads);
    const auto [weights, loss] = train(threads);
    CHECK(train(threads).first == weights);
    CHECK(loss == doctest::Approx(one_loss).epsilon(1e-3));
  }
}
