#include "data/batcher.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace normlab {

namespace {

void check_sizes(std::size_t rows, std::size_t batch_size) {
  check(rows > 0, "Batcher: the dataset has 0 rows; expected at least one sample");
  check(batch_size > 0, "Batcher: batch_size is 0; expected a positive batch size");
}

std::string index_error(std::size_t index, std::size_t rows) {
  return "Batcher::gather: row index " + std::to_string(index) + " is out of range for " +
         std::to_string(rows) + " rows";
}

}  // namespace

Batcher::Batcher(std::size_t rows, std::size_t batch_size, bool shuffle, Rng& rng)
    : rows_(rows), batch_size_(batch_size), shuffle_(shuffle), external_rng_(&rng) {
  check_sizes(rows, batch_size);
}

Batcher::Batcher(std::size_t rows, std::size_t batch_size, bool shuffle, std::uint64_t seed)
    : rows_(rows), batch_size_(batch_size), shuffle_(shuffle), own_rng_(seed) {
  check_sizes(rows, batch_size);
}

void Batcher::begin_epoch() {
  // Sized once (the first epoch); later epochs rewrite it in place.
  order_.resize(rows_);
  // Shuffling the identity, not last epoch's order, makes each order a function of the
  // generator state alone. Without shuffle the generator is left untouched.
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  if (shuffle_) rng().shuffle(order_);
  ++epoch_;
  next_batch_ = 0;
}

std::size_t Batcher::batch_begin(std::size_t i) const {
  if (i >= num_batches())
    throw Error("Batcher: batch " + std::to_string(i) + " requested, but there are " +
                std::to_string(num_batches()) + " batches (0-based)");
  return i * batch_size_;
}

std::size_t Batcher::batch_end(std::size_t i) const {
  return std::min(batch_begin(i) + batch_size_, rows_);
}

std::span<const std::size_t> Batcher::batch(std::size_t i) const {
  check(epoch_ > 0, "Batcher: batch requested before begin_epoch()");
  const std::size_t begin = batch_begin(i);
  return {order_.data() + begin, batch_end(i) - begin};
}

std::optional<std::span<const std::size_t>> Batcher::next() {
  if (!in_epoch()) return std::nullopt;
  return batch(next_batch_++);
}

Batcher::State Batcher::state() const {
  return {epoch_, next_batch_, order_, rng().state()};
}

void Batcher::set_state(const State& s) {
  const std::string where = "Batcher::set_state: ";
  if (s.epoch == 0) {
    check(s.order.empty() && s.next_batch == 0,
          where + "epoch 0 (none begun) must have an empty order and next_batch 0, got " +
              std::to_string(s.order.size()) + " order entries and next_batch " +
              std::to_string(s.next_batch));
  } else {
    check(s.order.size() == rows_, where + "order has " + std::to_string(s.order.size()) +
                                       " entries; expected " + std::to_string(rows_) +
                                       " (the dataset's rows)");
    check(s.next_batch <= num_batches(), where + "next_batch " + std::to_string(s.next_batch) +
                                             " is past the " + std::to_string(num_batches()) +
                                             " batches of an epoch");
    std::vector<bool> seen(rows_, false);  // restore time only, not the training loop
    for (std::size_t i = 0; i < rows_; ++i) {
      const std::size_t r = s.order[i];
      check(r < rows_ && !seen[r], where + "order is not a permutation of 0.." +
                                       std::to_string(rows_ - 1) + ": entry " + std::to_string(i) +
                                       " is " + std::to_string(r) +
                                       (r < rows_ ? " (repeated)" : " (out of range)"));
      seen[r] = true;
    }
  }
  // xoshiro256** never leaves the all-zero state: that is a default State{}, not a saved one.
  check(s.rng[0] | s.rng[1] | s.rng[2] | s.rng[3],
        where + "the generator state is all zeros; expected a state saved by state()");
  epoch_ = s.epoch;
  next_batch_ = s.next_batch;
  order_ = s.order;  // copy-assignment reuses order_'s memory once it has N slots
  rng().set_state(s.rng);
}

void Batcher::gather(const Tensor& src, const std::size_t* idx, std::size_t count, Tensor& dst) {
  check(&src != &dst, "Batcher::gather: dst must be a different tensor from src");
  const std::size_t cols = src.cols();
  dst.resize(count, cols);
  for (std::size_t i = 0; i < count; ++i) {
    if (idx[i] >= src.rows()) throw Error(index_error(idx[i], src.rows()));
    const float* from = src.row(idx[i]);
    std::copy(from, from + cols, dst.row(i));
  }
}

void Batcher::gather(const std::vector<float>& src, const std::size_t* idx, std::size_t count,
                     std::vector<float>& dst) {
  check(&src != &dst, "Batcher::gather: dst must be a different vector from src");
  if (src.empty()) {
    dst.clear();
    return;
  }
  dst.resize(count);  // never shrinks capacity
  for (std::size_t i = 0; i < count; ++i) {
    if (idx[i] >= src.size()) throw Error(index_error(idx[i], src.size()));
    dst[i] = src[idx[i]];
  }
}

void Batcher::gather(const Dataset& src, std::span<const std::size_t> idx, Dataset& dst) {
  gather(src.x, idx.data(), idx.size(), dst.x);
  gather(src.y, idx.data(), idx.size(), dst.y);
  gather(src.sample_weight, idx.data(), idx.size(), dst.sample_weight);
}

}  // namespace normlab
