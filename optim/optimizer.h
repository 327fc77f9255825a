/// @file
/// The optimizer contract. apply(vars) performs one training step's update of every trainable
/// variable from its gradient and counts one iteration, in Keras 3's order
/// (keras/src/optimizers/base_optimizer.py, `apply`):
/// @verbatim
///   1. clip the gradients (at most one of the three):
///        clipnorm c         g <- g c / max(||g||, c)        per variable
///        global_clipnorm c  g <- g c / max(n, c),  n = sqrt(sum over variables of ||g||^2)
///        clipvalue c        g <- clip(g, -c, c)             element-wise
///   2. weight decay wd      w <- w - w wd lr                every variable not excluded
/// lr is the constant learning rate or a schedule's value at the step count (schedules.h).
///   3. the optimizer's own update of each variable, t = iterations + 1 (t = 1 at first)
///   4. use_ema:             a <- mu a + (1 - mu) w,  mu = ema_momentum (0 at the first step)
///                           w <- a every ema_overwrite_frequency steps, and at the end of fit
///                           (finalize_variable_values)
/// @endverbatim
/// Clipping rewrites the gradients in place. The optimizer keeps its per-variable state (slots:
/// Adam's m and v, SGD's velocity) in the order of `vars`, so every call must pass the same
/// variables in the same order (Sequential::trainable_variables() does). Slots are created at
/// the first call; later calls allocate nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/layer.h"
#include "optim/schedules.h"

namespace normlab {

/// Keras' base-optimizer arguments that change the update (steps 1 and 2 above).
struct OptimizerOptions {
  /// Decoupled weight decay; none when unset (Keras' None).
  std::optional<float> weight_decay;
  /// Each clipping bound is unset at 0; at most one may be set.
  float clipnorm = 0.0f;
  float global_clipnorm = 0.0f;  ///< See clipnorm.
  float clipvalue = 0.0f;        ///< See clipnorm.
  /// Variables whose name matches one of these regular expressions (searched, as Keras'
  /// `exclude_from_weight_decay(var_names=...)`) are not decayed: {"gamma", "beta"} spares
  /// normalization layers, {"bias"} Dense biases.
  std::vector<std::string> exclude_from_weight_decay;
  /// When set, the learning rate of each step, in place of the optimizer's constant one.
  std::shared_ptr<const LearningRateSchedule> learning_rate_schedule;
  /// Keep an exponential moving average of every variable (step 4 above).
  bool use_ema = false;
  float ema_momentum = 0.99f;                ///< mu in step 4.
  std::int64_t ema_overwrite_frequency = 0;  ///< 0: only at the end of fit.
};

/// Where epsilon enters an adaptive update: Keras' form, or PyTorch's (torch.optim), each
/// optimizer's header shows both.
enum class EpsilonPlacement { Keras, PyTorch };

/// "keras" or "pytorch"; anything else throws.
EpsilonPlacement parse_epsilon_placement(const std::string& name);
/// "keras" or "pytorch".
const char* epsilon_placement_name(EpsilonPlacement placement);

/// Updates trainable variables from their gradients, one step per apply().
class Optimizer {
 public:
  /// Checks the options (bounds > 0, at most one clipping bound, valid patterns).
  explicit Optimizer(OptimizerOptions options = {});
  virtual ~Optimizer() = default;
  virtual std::string class_name() const = 0;  ///< Keras class name: "Adam"
  /// Keras config: learning_rate, the optimizer's arguments, and the options that are set.
  nlohmann::json get_config() const;
  /// The learning rate of the next step: the schedule's at iterations(), else the constant one.
  float learning_rate() const;
  /// Replaces the constant learning rate from the next step on (ReduceLROnPlateau); an
  /// optimizer whose learning rate is a schedule refuses, as Keras does.
  void set_learning_rate(float learning_rate);
  /// The clipping and weight-decay options.
  const OptimizerOptions& options() const { return options_; }

  /// One update of every variable in `vars`, the same ones in the same order every call.
  void apply(const std::vector<Variable>& vars);
  /// With use_ema, copies the moving averages into `vars` (Keras calls it when fit ends);
  /// otherwise nothing. Moving statistics computed with the last weights are then stale:
  /// PreciseBN recalibrates them (model/precise_bn.h).
  void finalize_variable_values(const std::vector<Variable>& vars);

  /// Steps taken so far (Keras' `iterations`); the next step is iterations() + 1.
  std::int64_t iterations() const { return iterations_; }
  /// Restores the step count (a resumed checkpoint).
  void set_iterations(std::int64_t iterations) { iterations_ = iterations; }
  /// Every slot as a named variable ("m/3": Adam's first moment of variable 3), then with use_ema
  /// the averages ("average/3"), for checkpoints; none before the slots are made.
  std::vector<Variable> slot_variables();
  /// Makes the slots for `vars` as the first apply() would, unless they exist: a restored
  /// optimizer state is then copied into slot_variables().
  void build_slots(const std::vector<Variable>& vars);

 protected:
  /// The optimizer's constant learning rate (its config's).
  virtual float configured_learning_rate() const = 0;
  /// The optimizer's own arguments, without the options (get_config() adds those).
  virtual nlohmann::json own_config() const = 0;
  /// The names of the per-variable state tensors ("m", "v").
  virtual std::vector<std::string> slot_names() const = 0;
  /// The value slot `index` starts at (Adagrad's accumulator); 0 for the others.
  virtual float slot_initial_value(std::size_t /*index*/) const { return 0.0f; }
  /// Called once per step before the variables are updated (Nadam's momentum product).
  virtual void begin_step(std::int64_t /*t*/) {}
  /// Updates one variable; `slots` points at its slot_names().size() tensors; t = iterations()+1.
  virtual void update(const Variable& var, Tensor* slots, std::int64_t t) = 0;

  /// See iterations().
  std::int64_t iterations_ = 0;
  std::vector<Tensor> slots_;  ///< slot_names().size() tensors per variable, variable-major
  std::size_t slots_per_variable_ = 0;  ///< slot_names().size(), read once with the slots
  /// learning_rate() of the step apply() is taking, evaluated once per step for every update.
  float step_learning_rate_ = 0.0f;

 private:
  void clip_gradients(const std::vector<Variable>& vars) const;
  void decay_weights(const std::vector<Variable>& vars);
  void update_averages(const std::vector<Variable>& vars);

  OptimizerOptions options_;
  std::optional<float> learning_rate_;  ///< set_learning_rate's, over the configured one
  std::vector<std::regex> excluded_;    ///< options_.exclude_from_weight_decay, compiled
  std::vector<char> decayed_;     ///< per variable of apply(): weight decay applies (made once)
  std::vector<Tensor> averages_;  ///< with use_ema, one per variable
};

}  // namespace normlab
