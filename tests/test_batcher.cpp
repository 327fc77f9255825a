// Batcher: epoch orders, ceil(N/B) batches with the partial one kept, gather, resumable state.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "data/batcher.h"

using namespace normlab;

namespace {

std::vector<std::size_t> as_vector(std::span<const std::size_t> s) {
  return {s.begin(), s.end()};
}

bool is_permutation_of_range(const std::vector<std::size_t>& order, std::size_t n) {
  std::vector<std::size_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> identity(n);
  std::iota(identity.begin(), identity.end(), std::size_t{0});
  return sorted == identity;
}

// Every batch of the next `epochs` epochs, concatenated, epoch after epoch.
std::vector<std::size_t> run(Batcher& b, std::size_t epochs) {
  std::vector<std::size_t> seen;
  for (std::size_t e = 0; e < epochs; ++e) {
    if (!b.in_epoch()) b.begin_epoch();
    while (auto rows = b.next()) seen.insert(seen.end(), rows->begin(), rows->end());
  }
  return seen;
}

}  // namespace

TEST_CASE("Batcher without shuffle: identity order, ceil(N/B) batches, the partial one kept") {
  Batcher b(10, 4, false, 7);
  CHECK(b.num_batches() == 3);  // ceil(10 / 4)
  CHECK_FALSE(b.in_epoch());
  CHECK_THROWS_AS(b.batch(0), Error);  // before begin_epoch
  b.begin_epoch();
  CHECK(b.epoch() == 1);
  CHECK(as_vector(b.batch(0)) == std::vector<std::size_t>{0, 1, 2, 3});
  CHECK(as_vector(b.batch(1)) == std::vector<std::size_t>{4, 5, 6, 7});
  CHECK(as_vector(b.batch(2)) == std::vector<std::size_t>{8, 9});  // 10 - 2*4 = 2 rows
  CHECK(b.batch_begin(2) == 8);
  CHECK(b.batch_end(2) == 10);
  CHECK_THROWS_WITH_AS(b.batch(3), doctest::Contains("there are 3 batches"), Error);

  std::vector<std::size_t> sizes;
  while (auto rows = b.next()) sizes.push_back(rows->size());
  CHECK(sizes == std::vector<std::size_t>{4, 4, 2});
  CHECK_FALSE(b.in_epoch());
  CHECK_FALSE(b.next().has_value());
}

TEST_CASE("Batcher: exact multiples and a batch larger than the data") {
  CHECK(Batcher(12, 4, false, 0).num_batches() == 3);
  Batcher one(5, 32, true, 1);
  CHECK(one.num_batches() == 1);
  one.begin_epoch();
  CHECK(one.batch(0).size() == 5);
  CHECK(Batcher(1, 1, true, 0).num_batches() == 1);
}

TEST_CASE("Batcher rejects zero rows and zero batch size") {
  CHECK_THROWS_WITH_AS(Batcher(0, 4, true, 1), doctest::Contains("0 rows"), Error);
  CHECK_THROWS_WITH_AS(Batcher(4, 0, true, 1), doctest::Contains("batch_size is 0"), Error);
}

TEST_CASE("Batcher shuffle: a permutation, new each epoch, the same for the same seed") {
  const std::size_t n = 50;
  Batcher a(n, 8, true, 42), b(n, 8, true, 42), c(n, 8, true, 43);
  a.begin_epoch();
  const std::vector<std::size_t> first = a.order();
  CHECK(is_permutation_of_range(first, n));
  std::vector<std::size_t> identity(n);
  std::iota(identity.begin(), identity.end(), std::size_t{0});
  CHECK(first != identity);

  a.begin_epoch();
  const std::vector<std::size_t> second = a.order();
  CHECK(is_permutation_of_range(second, n));
  CHECK(second != first);
  CHECK(second != identity);  // every epoch is shuffled, not only the first

  b.begin_epoch();
  CHECK(b.order() == first);
  b.begin_epoch();
  CHECK(b.order() == second);

  c.begin_epoch();
  CHECK(c.order() != first);

  // The batches walk the order: concatenated they are the epoch's order.
  Batcher d(n, 8, true, 42);
  CHECK(run(d, 1) == first);
}

TEST_CASE("Batcher draws from a shared Rng exactly like Rng::shuffle of the identity") {
  Rng shared(9), expected(9);
  Batcher b(20, 6, true, shared);
  b.begin_epoch();
  std::vector<std::size_t> order(20);
  std::iota(order.begin(), order.end(), std::size_t{0});
  expected.shuffle(order);
  CHECK(b.order() == order);
  CHECK(shared.state() == expected.state());  // the shared generator advanced

  // Each epoch shuffles the identity afresh (not last epoch's order).
  b.begin_epoch();
  std::iota(order.begin(), order.end(), std::size_t{0});
  expected.shuffle(order);
  CHECK(b.order() == order);

  // Without shuffle the generator is not touched.
  Rng untouched(9);
  const Rng::State before = untouched.state();
  Batcher plain(20, 6, false, untouched);
  plain.begin_epoch();
  CHECK(untouched.state() == before);
}

TEST_CASE("Batcher state resumes mid-epoch with the same batches and later shuffles") {
  Batcher a(23, 5, true, 2024);  // 5 batches, the last of 3 rows
  a.begin_epoch();
  a.next();
  a.next();
  const Batcher::State saved = a.state();
  CHECK(saved.epoch == 1);
  CHECK(saved.next_batch == 2);
  CHECK(saved.order.size() == 23);
  const std::vector<std::size_t> rest_a = run(a, 3);  // the rest of epoch 1, then 2 epochs

  Batcher b(23, 5, true, 1);  // another seed: everything comes from the state
  b.set_state(saved);
  CHECK(b.state() == saved);
  CHECK(b.in_epoch());
  const std::vector<std::size_t> rest_b = run(b, 3);
  CHECK(rest_a == rest_b);
  CHECK(rest_a.size() == 23 - 10 + 2 * 23);

  // A state saved at the very end of an epoch starts the next epoch on resume.
  Batcher c(23, 5, true, 5), d(23, 5, true, 6);
  run(c, 1);
  d.set_state(c.state());
  CHECK_FALSE(d.in_epoch());
  CHECK(run(c, 1) == run(d, 1));

  // A fresh state (no epoch begun) round-trips too.
  Batcher e(23, 5, true, 77), f(23, 5, true, 0);
  f.set_state(e.state());
  CHECK(run(e, 2) == run(f, 2));
}

TEST_CASE("Batcher::set_state rejects states that do not fit") {
  Batcher b(4, 2, true, 3);
  b.begin_epoch();
  Batcher::State s = b.state();

  Batcher::State wrong = s;
  wrong.order = {0, 1, 2};
  CHECK_THROWS_WITH_AS(b.set_state(wrong), doctest::Contains("order has 3 entries; expected 4"),
                       Error);
  wrong.order = {0, 1, 1, 3};
  CHECK_THROWS_WITH_AS(b.set_state(wrong), doctest::Contains("entry 2 is 1 (repeated)"), Error);
  wrong.order = {0, 1, 2, 9};
  CHECK_THROWS_WITH_AS(b.set_state(wrong), doctest::Contains("entry 3 is 9 (out of range)"), Error);
  wrong = s;
  wrong.next_batch = 3;
  CHECK_THROWS_WITH_AS(b.set_state(wrong), doctest::Contains("next_batch 3 is past the 2"), Error);
  wrong = s;
  wrong.epoch = 0;
  CHECK_THROWS_WITH_AS(b.set_state(wrong), doctest::Contains("must have an empty order"), Error);
  CHECK_THROWS_WITH_AS(b.set_state(Batcher::State{}), doctest::Contains("all zeros"), Error);
  CHECK(b.state() == s);  // a rejected state changes nothing
}

TEST_CASE("Batcher keeps one order buffer: no allocation after the first epoch") {
  Batcher b(100, 16, true, 8);
  b.begin_epoch();
  const std::size_t* buffer = b.order().data();
  const Batcher::State s = b.state();
  for (int e = 0; e < 5; ++e) b.begin_epoch();
  CHECK(b.order().data() == buffer);
  b.set_state(s);
  CHECK(b.order().data() == buffer);
}

TEST_CASE("Batcher::gather copies the indexed rows, reusing dst") {
  const Tensor src{{0, 1}, {10, 11}, {20, 21}, {30, 31}};
  Tensor dst;
  const std::size_t idx[] = {3, 0, 2};
  Batcher::gather(src, idx, 3, dst);
  CHECK(dst == Tensor{{30, 31}, {0, 1}, {20, 21}});

  // A smaller batch (the partial last one) reuses the memory.
  const float* memory = dst.data();
  Batcher::gather(src, idx + 1, 1, dst);
  CHECK(dst == Tensor{{0, 1}});
  CHECK(dst.data() == memory);

  const std::size_t bad[] = {4};
  CHECK_THROWS_WITH_AS(Batcher::gather(src, bad, 1, dst),
                       doctest::Contains("row index 4 is out of range for 4 rows"), Error);
  Tensor self = src;
  CHECK_THROWS_AS(Batcher::gather(self, idx, 3, self), Error);

  const std::vector<float> weights{0.5f, 1.5f, 2.5f, 3.5f};
  std::vector<float> wdst;
  Batcher::gather(weights, idx, 3, wdst);
  CHECK(wdst == std::vector<float>{3.5f, 0.5f, 2.5f});
  Batcher::gather(std::vector<float>{}, idx, 3, wdst);  // unweighted stays unweighted
  CHECK(wdst.empty());
}

TEST_CASE("Batcher::gather of a Dataset gathers x, y and sample weights together") {
  Dataset src;
  src.x = Tensor{{1}, {2}, {3}};
  src.y = Tensor{{10, 100}, {20, 200}, {30, 300}};
  src.sample_weight = {0.1f, 0.2f, 0.3f};
  Batcher b(3, 2, true, 11);
  b.begin_epoch();
  Dataset batch;
  Batcher::gather(src, b.batch(0), batch);
  REQUIRE(batch.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const std::size_t r = b.batch(0)[i];
    CHECK(batch.x(i, 0) == src.x(r, 0));
    CHECK(batch.y(i, 1) == src.y(r, 1));
    CHECK(batch.sample_weight[i] == src.sample_weight[r]);
  }
  Batcher::gather(src, b.batch(1), batch);
  CHECK(batch.size() == 1);
  CHECK(batch.y.cols() == 2);
}
