/// @file
/// @verbatim
/// Splits N rows into mini-batches of B, epoch after epoch, as Keras' fit does.
///
///   order       the epoch's row order: 0..N-1, or (shuffle) a Fisher-Yates permutation drawn
///               with Rng::shuffle at the start of every epoch from the identity
///   batches     ceil(N / B); batch i holds order[i*B, min((i+1)*B, N)), so the last batch is
///               the partial remainder N - (ceil(N/B) - 1) * B, kept, never dropped (Keras)
///
/// Typical loop (begin_epoch() is skipped when a restored state resumes an epoch midway):
///
///   if (!batcher.in_epoch()) batcher.begin_epoch();
///   while (auto rows = batcher.next()) Batcher::gather(data.x, rows->data(), rows->size(), xb);
///
/// Its whole state (State below) can be read and set, so a checkpoint taken mid-epoch resumes
/// with the same remaining batches and the same later shuffles. The order vector is sized once;
/// nothing is allocated after that.
/// @endverbatim
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "data/dataset.h"

namespace normlab {

/// Splits N rows into mini-batches of B, shuffled or not, epoch after epoch, as Keras' fit does.
class Batcher {
 public:
  /// Everything that decides the remaining batches and later shuffles, for checkpoints.
  struct State {
    std::size_t epoch = 0;           ///< epochs begun; the current one's 0-based index is epoch - 1
    std::size_t next_batch = 0;      ///< the batch next() returns next, in [0, num_batches]
    std::vector<std::size_t> order;  ///< the current epoch's order; empty before the first epoch
    Rng::State rng{};                ///< the generator, as it is after drawing `order`
    /// The same epoch, batch, order and generator: the batches still to come are the same.
    bool operator==(const State&) const = default;
  };

  /// Draws shuffles from `rng`, which must outlive the batcher (shared, e.g. with the model's
  /// seed stream); a state set later also sets that generator.
  Batcher(std::size_t rows, std::size_t batch_size, bool shuffle, Rng& rng);
  /// Draws shuffles from a generator of its own, seeded with `seed`.
  Batcher(std::size_t rows, std::size_t batch_size, bool shuffle, std::uint64_t seed);

  ///@{
  /// The settings it was made with: N, B and whether each epoch is shuffled.
  std::size_t rows() const { return rows_; }
  std::size_t batch_size() const { return batch_size_; }
  bool shuffle() const { return shuffle_; }
  ///@}
  /// ceil(N / B); the last batch holds the remainder.
  std::size_t num_batches() const { return (rows_ + batch_size_ - 1) / batch_size_; }

  /// Starts a new epoch: order = identity, then shuffled when shuffle is on; next_batch = 0.
  void begin_epoch();
  /// An epoch has begun and has batches left.
  bool in_epoch() const { return epoch_ > 0 && next_batch_ < num_batches(); }
  /// Epochs begun.
  std::size_t epoch() const { return epoch_; }
  /// The batch next() returns next.
  std::size_t next_batch() const { return next_batch_; }

  ///@{
  /// Positions [begin, end) in order of batch i < num_batches().
  std::size_t batch_begin(std::size_t i) const;
  std::size_t batch_end(std::size_t i) const;
  ///@}
  /// The row indices of batch i of the current epoch (requires begin_epoch()).
  std::span<const std::size_t> batch(std::size_t i) const;
  /// The next batch of the epoch, advancing next_batch; nullopt once the epoch is exhausted.
  std::optional<std::span<const std::size_t>> next();

  /// The current epoch's row order.
  const std::vector<std::size_t>& order() const { return order_; }

  /// The whole state, for a checkpoint.
  State state() const;
  /// Validates first (order a permutation of 0..N-1, next_batch within range), then sets all.
  void set_state(const State& s);

  /// dst = src[idx[0..count)] row by row; dst.resize keeps its memory, so gathering batches no
  /// larger than the first one allocates nothing. dst must not be src.
  static void gather(const Tensor& src, const std::size_t* idx, std::size_t count, Tensor& dst);
  /// The same for per-row weights; an empty src (unweighted) gives an empty dst.
  static void gather(const std::vector<float>& src, const std::size_t* idx, std::size_t count,
                     std::vector<float>& dst);
  /// x, y and sample_weight of the rows in `idx`.
  static void gather(const Dataset& src, std::span<const std::size_t> idx, Dataset& dst);

 private:
  Rng& rng() { return external_rng_ ? *external_rng_ : own_rng_; }
  const Rng& rng() const { return external_rng_ ? *external_rng_ : own_rng_; }

  std::size_t rows_, batch_size_;
  bool shuffle_;
  Rng* external_rng_ = nullptr;  // null: own_rng_ is used
  Rng own_rng_;
  std::size_t epoch_ = 0, next_batch_ = 0;
  std::vector<std::size_t> order_;
};

}  // namespace normlab
