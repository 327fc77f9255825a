/// @file
/// @verbatim
/// What one forward needs besides its input x, in one value passed down the layers:
///
///   mode           Train: batch statistics, state updated, caches kept for backward;
///                  Infer: nothing changes
///   sample_weight  the weights w_i of the batch's N rows (the fit's sample_weight times its
///                  class_weight), or empty: every row weighs 1. A BatchNormalization with
///                  weighted_statistics takes its moments with them; other layers ignore them.
///   communicator   the processes that share the batch, one shard each (core/communicator.h),
///                  or null: this process alone. Layers whose statistics span the whole batch
///                  (a synchronized BatchNormalization) reduce across them.
///   rng            the stream of a layer that draws during training (dropout, noise), or null.
///
/// The context is read during the forward call only; a layer keeps what backward needs in its
/// own caches. Building one allocates nothing.
/// @endverbatim
#pragma once

#include <cstddef>
#include <span>

#include "core/communicator.h"
#include "core/rng.h"

namespace normlab {

/// Train: batch statistics, state updated, caches kept for backward; Infer: nothing changes.
enum class Mode { Train, Infer };

/// The step's context of one forward call: `layer.forward(x, {Mode::Train})`, or with
/// designated initializers `{.mode = Mode::Train, .sample_weight = w, .communicator = &c}`.
struct StepContext {
  /// Train or Infer.
  Mode mode = Mode::Infer;
  /// One weight per row of x, or empty (every row weighs 1).
  std::span<const float> sample_weight = {};
  /// The processes sharing the batch, or null (this process alone).
  Communicator* communicator = nullptr;
  /// The stream of layers that draw during training, or null.
  Rng* rng = nullptr;

  /// A training forward.
  bool training() const { return mode == Mode::Train; }
};

}  // namespace normlab
