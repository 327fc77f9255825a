#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/format.h"
#include "core/parallel.h"

namespace normlab {

EpsilonPlacement parse_epsilon_placement(const std::string& name) {
  if (name == "keras") return EpsilonPlacement::Keras;
  if (name == "pytorch") return EpsilonPlacement::PyTorch;
  throw Error("unknown epsilon_placement '" + name + "': expected \"keras\" or \"pytorch\"");
}

const char* epsilon_placement_name(EpsilonPlacement placement) {
  return placement == EpsilonPlacement::Keras ? "keras" : "pytorch";
}

Optimizer::Optimizer(OptimizerOptions options) : options_(std::move(options)) {
  const OptimizerOptions& o = options_;
  check(!o.weight_decay || *o.weight_decay >= 0.0f,
        "weight_decay must be >= 0, got " + format_float(o.weight_decay.value_or(0.0f)));
  for (const auto& [name, bound] : {std::pair<const char*, float>{"clipnorm", o.clipnorm},
                                    {"global_clipnorm", o.global_clipnorm},
                                    {"clipvalue", o.clipvalue}})
    check(bound >= 0.0f && std::isfinite(bound),
          std::string(name) + " must be > 0 when set, got " + format_float(bound));
  check((o.clipnorm > 0) + (o.global_clipnorm > 0) + (o.clipvalue > 0) <= 1,
        "only one of clipnorm, global_clipnorm and clipvalue can be set");
  check(o.ema_momentum >= 0.0f && o.ema_momentum <= 1.0f,
        "ema_momentum must be in [0, 1], got " + format_float(o.ema_momentum));
  check(o.ema_overwrite_frequency >= 0, "ema_overwrite_frequency must be >= 1 when set, got " +
                                            std::to_string(o.ema_overwrite_frequency));
  for (const std::string& pattern : o.exclude_from_weight_decay) {
    try {
      excluded_.emplace_back(pattern);
    } catch (const std::regex_error& e) {
      throw Error("exclude_from_weight_decay: '" + pattern +
                  "' is not a regular expression: " + e.what());
    }
  }
}

float Optimizer::learning_rate() const {
  const auto& schedule = options_.learning_rate_schedule;
  if (schedule) return static_cast<float>((*schedule)(iterations_));
  return learning_rate_.value_or(configured_learning_rate());
}

void Optimizer::set_learning_rate(float learning_rate) {
  check(!options_.learning_rate_schedule,
        class_name() + ": its learning rate is a schedule and cannot be set");
  check(learning_rate > 0.0f && std::isfinite(learning_rate),
        class_name() + ": learning_rate must be > 0, got " + format_float(learning_rate));
  learning_rate_ = learning_rate;
}

nlohmann::json Optimizer::get_config() const {
  nlohmann::json config = own_config();
  if (options_.learning_rate_schedule)
    config["learning_rate"] = schedule_to_json(*options_.learning_rate_schedule);
  else if (learning_rate_)
    config["learning_rate"] = *learning_rate_;
  // Only the options that are set, so an optimizer without them serializes as before.
  if (options_.weight_decay) config["weight_decay"] = *options_.weight_decay;
  if (options_.clipnorm > 0) config["clipnorm"] = options_.clipnorm;
  if (options_.global_clipnorm > 0) config["global_clipnorm"] = options_.global_clipnorm;
  if (options_.clipvalue > 0) config["clipvalue"] = options_.clipvalue;
  if (!options_.exclude_from_weight_decay.empty())
    config["exclude_from_weight_decay"] = options_.exclude_from_weight_decay;
  if (options_.use_ema) {
    config["use_ema"] = true;
    config["ema_momentum"] = options_.ema_momentum;
    if (options_.ema_overwrite_frequency > 0)
      config["ema_overwrite_frequency"] = options_.ema_overwrite_frequency;
  }
  return config;
}

void Optimizer::apply(const std::vector<Variable>& vars) {
  // Slots are made at the first call; later calls allocate nothing (slot_names() does, so it
  // is read only then), and every check builds its message only when it fails.
  build_slots(vars);
  const std::size_t per_var = slots_per_variable_;
  if (decayed_.size() != vars.size())
    throw Error(class_name() + ": called with " + std::to_string(vars.size()) +
                " variables, but its state was made for " + std::to_string(decayed_.size()));
  for (std::size_t i = 0; i < vars.size(); ++i) {
    const Variable& v = vars[i];
    if (v.grad == nullptr)
      throw Error(class_name() + ": variable '" + v.name + "' has no gradient");
    if (per_var > 0) {
      const Tensor& slot = slots_[i * per_var];
      if (slot.rows() != v.value->rows() || slot.cols() != v.value->cols())
        throw Error(class_name() + ": variable " + std::to_string(i) + " '" + v.name +
                    "' has shape " + v.value->shape_string() + ", but its state has shape " +
                    slot.shape_string());
    }
  }
  const std::int64_t t = iterations_ + 1;
  step_learning_rate_ = learning_rate();
  clip_gradients(vars);
  decay_weights(vars);
  begin_step(t);
  for (std::size_t i = 0; i < vars.size(); ++i)
    update(vars[i], per_var ? &slots_[i * per_var] : nullptr, t);
  if (options_.use_ema) update_averages(vars);
  iterations_ = t;
}

void Optimizer::update_averages(const std::vector<Variable>& vars) {
  // Keras: the first step copies the weights (momentum 0), later ones blend them in.
  const float mu = iterations_ == 0 ? 0.0f : options_.ema_momentum;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    float* a = averages_[i].data();
    const float* w = vars[i].value->data();
    parallel_for(averages_[i].size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
      for (std::size_t j = begin; j < end; ++j) a[j] = mu * a[j] + (1.0f - mu) * w[j];
    });
  }
  const std::int64_t every = options_.ema_overwrite_frequency;
  if (every > 0 && (iterations_ + 1) % every == 0) finalize_variable_values(vars);
}

void Optimizer::finalize_variable_values(const std::vector<Variable>& vars) {
  if (!options_.use_ema || averages_.empty()) return;
  check(vars.size() == averages_.size(),
        class_name() + ": finalize_variable_values got " + std::to_string(vars.size()) +
            " variables, but its averages were made for " + std::to_string(averages_.size()));
  for (std::size_t i = 0; i < vars.size(); ++i) *vars[i].value = averages_[i];
}

namespace {
double squared_norm(const Tensor& g) {
  double sum = 0.0;
  for (std::size_t i = 0; i < g.size(); ++i) sum += static_cast<double>(g.data()[i]) * g.data()[i];
  return sum;
}

void scale(Tensor& g, float factor) {
  float* p = g.data();
  parallel_for(g.size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) p[i] *= factor;
  });
}
}  // namespace

void Optimizer::clip_gradients(const std::vector<Variable>& vars) const {
  const OptimizerOptions& o = options_;
  if (o.clipnorm > 0) {
    // Keras' _clip_by_norm: g c / max(||g||, c), so a gradient within the bound is unchanged.
    for (const Variable& v : vars) {
      const double norm = std::sqrt(squared_norm(*v.grad));
      if (norm > o.clipnorm) scale(*v.grad, static_cast<float>(o.clipnorm / norm));
    }
  } else if (o.global_clipnorm > 0) {
    double sum = 0.0;
    for (const Variable& v : vars) sum += squared_norm(*v.grad);
    const double norm = std::sqrt(sum);
    // A NaN or infinite norm makes every gradient NaN, as Keras' clip_by_global_norm does.
    if (!std::isfinite(norm) || norm > o.global_clipnorm) {
      const double factor = std::isfinite(norm) ? o.global_clipnorm / norm : std::nan("");
      for (const Variable& v : vars) scale(*v.grad, static_cast<float>(factor));
    }
  } else if (o.clipvalue > 0) {
    const float c = o.clipvalue;
    for (const Variable& v : vars) {
      float* p = v.grad->data();
      parallel_for(v.grad->size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) p[i] = std::clamp(p[i], -c, c);
      });
    }
  }
}

void Optimizer::decay_weights(const std::vector<Variable>& vars) {
  if (!options_.weight_decay) return;
  // Keras: w <- w - w * wd * lr, with the learning rate of this step.
  const float wd = *options_.weight_decay, lr = step_learning_rate_;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    if (!decayed_[i]) continue;
    float* w = vars[i].value->data();
    parallel_for(vars[i].value->size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
      for (std::size_t j = begin; j < end; ++j) w[j] -= w[j] * wd * lr;
    });
  }
}

void Optimizer::build_slots(const std::vector<Variable>& vars) {
  if (!decayed_.empty() || vars.empty()) return;
  slots_per_variable_ = slot_names().size();
  slots_.reserve(vars.size() * slots_per_variable_);
  for (const auto& v : vars)
    for (std::size_t s = 0; s < slots_per_variable_; ++s)
      slots_.emplace_back(v.value->rows(), v.value->cols(), slot_initial_value(s));
  if (options_.use_ema)
    for (const auto& v : vars) averages_.emplace_back(v.value->rows(), v.value->cols(), 0.0f);
  for (const auto& v : vars)
    decayed_.push_back(std::none_of(excluded_.begin(), excluded_.end(), [&](const std::regex& r) {
      return std::regex_search(v.name, r);
    }));
}

std::vector<Variable> Optimizer::slot_variables() {
  const auto names = slot_names();
  std::vector<Variable> out;
  for (std::size_t i = 0; i < slots_.size(); ++i)
    out.push_back({names[i % names.size()] + "/" + std::to_string(i / names.size()), &slots_[i],
                   nullptr, false});
  for (std::size_t i = 0; i < averages_.size(); ++i)
    out.push_back({"average/" + std::to_string(i), &averages_[i], nullptr, false});
  return out;
}

}  // namespace normlab
