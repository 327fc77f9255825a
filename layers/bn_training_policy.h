/// @file
/// @verbatim
/// BatchNormalization part: the freeze / training-mode policy, which decides once per forward
/// which statistics normalize the batch and what is updated.
///
///   forward                             moments   normalize with   moving statistics updated
///   Mode::Infer, or trainable = false   -         moving           no   (Keras' fine-tuning rule)
///   Mode::Train (trainable layer)       batch     batch            yes
///     freeze_statistics                 batch     batch            no   (gamma, beta still train;
///                                                                        renorm_step still counts)
///     use_moving_statistics_in_training batch     moving, as they  yes, unless frozen
///                                                 were before this batch (constants in backward)
/// A training (ghost) batch of one row, over all processes (single_sample_policy):
///   "zero_variance"  var = 0, so xhat = 0 and y = beta (Keras)
///   "error"          an error (PyTorch: "Expected more than 1 value per channel when training")
///   "inference"      normalized with the moving statistics, nothing updated (dlib)
/// Normalizing with the moving statistics makes the backward that of constants:
///   dx = gamma * g / sqrt(moving_variance + eps)
/// @endverbatim
#pragma once

#include <string>

#include "core/step_context.h"

namespace normlab {

/// What a training forward does with a (ghost) batch of one row.
enum class SingleSamplePolicy { ZeroVariance, Error, Inference };

/// "zero_variance", "error" or "inference"; anything else throws.
SingleSamplePolicy parse_single_sample_policy(const std::string& name);
/// The config name of a policy.
std::string single_sample_policy_name(SingleSamplePolicy p);

/// What one forward does, as the table above decides it.
struct StatisticsPlan {
  /// Take the batch's moments.
  bool batch_moments = false;
  /// Normalize with them (false: with the moving statistics).
  bool normalize_with_batch = false;
  /// Update the moving statistics from them.
  bool update = false;
};

/// The policy of a layer's freeze_statistics, use_moving_statistics_in_training and
/// single_sample_policy options.
class TrainingPolicy {
 public:
  /// The policy of these options.
  TrainingPolicy(bool freeze_statistics, bool use_moving_statistics, SingleSamplePolicy single)
      : freeze_(freeze_statistics), use_moving_(use_moving_statistics), single_(single) {}
  /// The plan of a forward in `mode` of a layer that is trainable or not.
  StatisticsPlan plan(Mode mode, bool trainable) const;
  /// The single-row rule applies to a training batch whose ghost batches have one row.
  bool checks_single_rows() const { return single_ != SingleSamplePolicy::ZeroVariance; }
  /// The plan for a training (ghost) batch of one row: the inference plan, or throws Error
  /// (prefixed with `where`) under "error".
  StatisticsPlan single_row(const std::string& where, bool ghost) const;
  /// A forward in `mode` of a layer that is trainable or not updates the moving statistics
  /// (batches of one row under "inference" aside).
  bool updates_statistics(Mode mode, bool trainable) const { return plan(mode, trainable).update; }

 private:
  bool freeze_, use_moving_;
  SingleSamplePolicy single_;
};

}  // namespace normlab
