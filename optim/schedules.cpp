#include "optim/schedules.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numbers>
#include <optional>
#include <vector>

#include "core/config_reader.h"
#include "core/error.h"

namespace normlab {

namespace {

using nlohmann::json;

// An argument Keras gives no default: absent is an error, as in Keras.
double required(ConfigReader& r, const std::string& key, double max = 1e18) {
  if (!r.has(key)) r.fail(key, "a number > 0 (required)");
  return r.number(key, 0, 0, max, true);
}

// ExponentialDecay and InverseTimeDecay share their arguments.
struct DecayArguments {
  double initial, steps, rate;
  bool staircase;
  double p(std::int64_t s) const {
    const double p = static_cast<double>(s) / steps;
    return staircase ? std::floor(p) : p;
  }
  json config() const {
    return {{"initial_learning_rate", initial},
            {"decay_steps", steps},
            {"decay_rate", rate},
            {"staircase", staircase}};
  }
};

DecayArguments decay_arguments(ConfigReader& r) {
  const double initial = required(r, "initial_learning_rate", 1e9);
  const double steps = required(r, "decay_steps");
  if (!r.has("decay_rate")) r.fail("decay_rate", "a number >= 0 (required)");
  return {initial, steps, r.number("decay_rate", 0, 0, 1e9), r.boolean("staircase", false)};
}

class ExponentialDecay final : public LearningRateSchedule {
 public:
  explicit ExponentialDecay(DecayArguments a) : a_(a) {}
  std::string class_name() const override { return "ExponentialDecay"; }
  json get_config() const override { return a_.config(); }
  double operator()(std::int64_t s) const override {
    return a_.initial * std::pow(a_.rate, a_.p(s));
  }

 private:
  DecayArguments a_;
};

class InverseTimeDecay final : public LearningRateSchedule {
 public:
  explicit InverseTimeDecay(DecayArguments a) : a_(a) {}
  std::string class_name() const override { return "InverseTimeDecay"; }
  json get_config() const override { return a_.config(); }
  double operator()(std::int64_t s) const override {
    return a_.initial / (1.0 + a_.rate * a_.p(s));
  }

 private:
  DecayArguments a_;
};

class PiecewiseConstantDecay final : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<double> boundaries, std::vector<double> values)
      : boundaries_(std::move(boundaries)), values_(std::move(values)) {}
  std::string class_name() const override { return "PiecewiseConstantDecay"; }
  json get_config() const override { return {{"boundaries", boundaries_}, {"values", values_}}; }
  double operator()(std::int64_t s) const override {
    // The first boundary not below s: values[i] holds for boundaries[i-1] < s <= boundaries[i].
    const auto at =
        std::lower_bound(boundaries_.begin(), boundaries_.end(), static_cast<double>(s));
    return values_[static_cast<std::size_t>(at - boundaries_.begin())];
  }

 private:
  std::vector<double> boundaries_, values_;
};

class PolynomialDecay final : public LearningRateSchedule {
 public:
  PolynomialDecay(double initial, double steps, double end, double power, bool cycle)
      : initial_(initial), steps_(steps), end_(end), power_(power), cycle_(cycle) {}
  std::string class_name() const override { return "PolynomialDecay"; }
  json get_config() const override {
    return {{"initial_learning_rate", initial_},
            {"decay_steps", steps_},
            {"end_learning_rate", end_},
            {"power", power_},
            {"cycle", cycle_}};
  }
  double operator()(std::int64_t step) const override {
    double s = static_cast<double>(step), d = steps_;
    if (cycle_)
      d *= s == 0 ? 1.0 : std::ceil(s / steps_);
    else
      s = std::min(s, d);
    return (initial_ - end_) * std::pow(1.0 - s / d, power_) + end_;
  }

 private:
  double initial_, steps_, end_, power_;
  bool cycle_;
};

class CosineDecay final : public LearningRateSchedule {
 public:
  CosineDecay(double initial, double steps, double alpha, std::optional<double> target,
              double warmup)
      : initial_(initial), steps_(steps), alpha_(alpha), target_(target), warmup_(warmup) {}
  std::string class_name() const override { return "CosineDecay"; }
  json get_config() const override {
    return {{"initial_learning_rate", initial_},
            {"decay_steps", steps_},
            {"alpha", alpha_},
            {"warmup_target", target_ ? json(*target_) : json(nullptr)},
            {"warmup_steps", warmup_}};
  }
  double operator()(std::int64_t step) const override {
    double s = static_cast<double>(step);
    if (!target_) return decayed(std::min(s, steps_), initial_);
    s = std::min(s, steps_ + warmup_);
    if (s < warmup_) return (*target_ - initial_) * (s / warmup_) + initial_;
    return decayed(s - warmup_, *target_);
  }

 private:
  double decayed(double s, double from) const {
    const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * (s / steps_)));
    return from * ((1.0 - alpha_) * cosine + alpha_);
  }
  double initial_, steps_, alpha_;
  std::optional<double> target_;
  double warmup_;
};

class CosineDecayRestarts final : public LearningRateSchedule {
 public:
  CosineDecayRestarts(double initial, double first, double t_mul, double m_mul, double alpha)
      : initial_(initial), first_(first), t_mul_(t_mul), m_mul_(m_mul), alpha_(alpha) {}
  std::string class_name() const override { return "CosineDecayRestarts"; }
  json get_config() const override {
    return {{"initial_learning_rate", initial_},
            {"first_decay_steps", first_},
            {"t_mul", t_mul_},
            {"m_mul", m_mul_},
            {"alpha", alpha_}};
  }
  double operator()(std::int64_t step) const override {
    double f = static_cast<double>(step) / first_, i = 0.0;
    if (t_mul_ == 1.0) {
      i = std::floor(f);
      f -= i;
    } else {  // periods of 1, t, t^2, ...: period i starts at (1 - t^i) / (1 - t)
      i = std::floor(std::log(1.0 - f * (1.0 - t_mul_)) / std::log(t_mul_));
      const double start = (1.0 - std::pow(t_mul_, i)) / (1.0 - t_mul_);
      f = (f - start) / std::pow(t_mul_, i);
    }
    const double cosine = 0.5 * std::pow(m_mul_, i) * (1.0 + std::cos(std::numbers::pi * f));
    return initial_ * ((1.0 - alpha_) * cosine + alpha_);
  }

 private:
  double initial_, first_, t_mul_, m_mul_, alpha_;
};

std::vector<double> numbers(ConfigReader& r, const std::string& key) {
  const json& v = r.raw(key);
  if (!v.is_array() || v.empty()) r.fail(key, "a non-empty list of numbers");
  std::vector<double> out;
  for (const json& x : v) {
    if (!x.is_number()) r.fail(key, "a non-empty list of numbers");
    out.push_back(x.get<double>());
  }
  return out;
}

using Factory = std::function<std::unique_ptr<LearningRateSchedule>(ConfigReader&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"ExponentialDecay",
       [](ConfigReader& r) { return std::make_unique<ExponentialDecay>(decay_arguments(r)); }},
      {"InverseTimeDecay",
       [](ConfigReader& r) { return std::make_unique<InverseTimeDecay>(decay_arguments(r)); }},
      {"PiecewiseConstantDecay",
       [](ConfigReader& r) {
         auto boundaries = numbers(r, "boundaries");
         auto values = numbers(r, "values");
         if (values.size() != boundaries.size() + 1)
           r.fail("values", "one more value than boundaries (" +
                                std::to_string(boundaries.size() + 1) + "), got " +
                                std::to_string(values.size()));
         if (!std::is_sorted(boundaries.begin(), boundaries.end()) ||
             std::adjacent_find(boundaries.begin(), boundaries.end()) != boundaries.end())
           r.fail("boundaries", "strictly increasing numbers");
         for (double v : values)
           if (!(v > 0)) r.fail("values", "learning rates > 0");
         return std::make_unique<PiecewiseConstantDecay>(std::move(boundaries), std::move(values));
       }},
      {"PolynomialDecay",
       [](ConfigReader& r) {
         const double initial = required(r, "initial_learning_rate", 1e9);
         const double steps = required(r, "decay_steps");
         return std::make_unique<PolynomialDecay>(
             initial, steps, r.number("end_learning_rate", 1e-4, 0, 1e9),
             r.number("power", 1.0, 0, 1e9), r.boolean("cycle", false));
       }},
      {"CosineDecay",
       [](ConfigReader& r) {
         // With a warmup the initial rate may be 0: the warmup starts from it.
         if (!r.has("initial_learning_rate"))
           r.fail("initial_learning_rate", "a number (required)");
         const double initial = r.number("initial_learning_rate", 0, 0, 1e9);
         const double steps = required(r, "decay_steps");
         std::optional<double> target;
         if (!r.raw("warmup_target").is_null())  // null: no warmup, as Keras' None
           target = r.number("warmup_target", 0, 0, 1e9, true);
         return std::make_unique<CosineDecay>(initial, steps, r.number("alpha", 0.0, 0, 1), target,
                                              r.number("warmup_steps", 0, 0, 1e18));
       }},
      {"CosineDecayRestarts", [](ConfigReader& r) {
         const double initial = required(r, "initial_learning_rate", 1e9);
         const double first = required(r, "first_decay_steps");
         return std::make_unique<CosineDecayRestarts>(
             initial, first, r.number("t_mul", 2.0, 0, 1e9, true),
             r.number("m_mul", 1.0, 0, 1e9, true), r.number("alpha", 0.0, 0, 1));
       }}};
  return table;
}

}  // namespace

std::unique_ptr<LearningRateSchedule> schedule_from_json(const json& value,
                                                         const std::string& path) {
  if (!value.is_object())
    throw Error(path +
                ": expected a number or a schedule {\"class_name\": ..., \"config\": "
                "...}, got " +
                describe_json(value));
  ConfigReader outer(value, path);
  const std::string name = outer.string("class_name", "");
  const auto it = factories().find(name);
  if (it == factories().end())
    outer.fail("class_name",
               "ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay, "
               "CosineDecay or CosineDecayRestarts");
  const json& config = outer.raw("config");
  outer.ignore({"module", "registered_name"});
  outer.finish();
  if (!config.is_object())
    throw Error(path + ".config: expected the schedule's arguments {...}, got " +
                describe_json(config));
  ConfigReader r(config, path + ".config");
  auto schedule = it->second(r);
  r.ignore({"name"});
  r.finish();
  return schedule;
}

json schedule_to_json(const LearningRateSchedule& schedule) {
  return {{"module", "keras.optimizers.schedules"},
          {"class_name", schedule.class_name()},
          {"config", schedule.get_config()}};
}

}  // namespace normlab
