/// @file
/// Learning-rate schedules as Keras 3 serializes them in an optimizer's `learning_rate`
/// (keras/src/optimizers/schedules/learning_rate_schedule.py). s is the optimizer's
/// iterations before the step (0 at the first step), lr0 the initial_learning_rate:
/// @verbatim
///   ExponentialDecay        lr0 rate^p,                      p = s / decay_steps (floored if
///                                                            staircase)
///   InverseTimeDecay        lr0 / (1 + rate p),              p as above
///   PiecewiseConstantDecay  values[i] for boundaries[i-1] < s <= boundaries[i]
///   PolynomialDecay         (lr0 - end) (1 - s'/D)^power + end,  s' = min(s, D), or with
///                           cycle D = decay_steps ceil(s / decay_steps) (1 at s = 0)
///   CosineDecay             warmup (s < W):  lr0 + (target - lr0) s / W
///                           then  peak ((1 - alpha) c + alpha),  c = (1 + cos(pi s''/D)) / 2,
///                           s'' = min(s, W + D) - W, peak = warmup_target (lr0 without warmup)
///   CosineDecayRestarts     period i of length D t_mul^i, peak lr0 m_mul^i:
///                           lr0 ((1 - alpha) m_mul^i (1 + cos(pi f)) / 2 + alpha),
///                           f the fraction of period i completed
/// @endverbatim
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace normlab {

/// A learning rate as a function of the step count.
class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  virtual std::string class_name() const = 0;     ///< Keras class name: "CosineDecay"
  virtual nlohmann::json get_config() const = 0;  ///< Keras config
  /// The learning rate of the step taken after `step` steps.
  virtual double operator()(std::int64_t step) const = 0;
};

/// {"class_name": "ExponentialDecay", "config": {...}} (module and registered_name accepted);
/// `path` names the value in messages.
std::unique_ptr<LearningRateSchedule> schedule_from_json(const nlohmann::json& value,
                                                         const std::string& path);
/// {"module": "keras.optimizers.schedules", "class_name": ..., "config": ...}
nlohmann::json schedule_to_json(const LearningRateSchedule& schedule);

}  // namespace normlab
