#include "layers/bn_training_policy.h"

#include "core/error.h"

namespace normlab {

SingleSamplePolicy parse_single_sample_policy(const std::string& name) {
  if (name == "zero_variance") return SingleSamplePolicy::ZeroVariance;
  if (name == "error") return SingleSamplePolicy::Error;
  if (name == "inference") return SingleSamplePolicy::Inference;
  throw Error("unknown single_sample_policy '" + name +
              "': expected \"zero_variance\", \"error\" or \"inference\"");
}

std::string single_sample_policy_name(SingleSamplePolicy p) {
  switch (p) {
    case SingleSamplePolicy::ZeroVariance:
      return "zero_variance";
    case SingleSamplePolicy::Error:
      return "error";
    case SingleSamplePolicy::Inference:
      return "inference";
  }
  return "zero_variance";
}

StatisticsPlan TrainingPolicy::plan(Mode mode, bool trainable) const {
  if (mode != Mode::Train || !trainable) return {};
  return {.batch_moments = true, .normalize_with_batch = !use_moving_, .update = !freeze_};
}

StatisticsPlan TrainingPolicy::single_row(const std::string& where, bool ghost) const {
  check(single_ != SingleSamplePolicy::Error,
        where + ": a training batch of one row has no variance (single_sample_policy " +
            "\"error\", as PyTorch); use batches of at least 2 rows" +
            (ghost ? " per ghost batch" : ""));
  return {};
}

}  // namespace normlab
