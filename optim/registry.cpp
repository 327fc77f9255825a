#include "optim/registry.h"

#include <functional>
#include <map>
#include <regex>

#include "core/config_reader.h"
#include "core/error.h"
#include "optim/adadelta.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/adamax.h"
#include "optim/lion.h"
#include "optim/nadam.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"

namespace normlab {

namespace {
// A constant learning rate; a schedule (an object) is read by read_options and the constant
// keeps its default.
float learning_rate(ConfigReader& r, float fallback) {
  if (r.raw("learning_rate").is_object()) return fallback;
  return static_cast<float>(r.number("learning_rate", fallback, 0, 1e9, true));
}
float decay(ConfigReader& r, const std::string& key, float fallback) {
  return static_cast<float>(r.number(key, fallback, 0, 1, false, true));
}
float epsilon(ConfigReader& r, float fallback) {
  return static_cast<float>(r.number("epsilon", fallback, 0, 1e9, true));
}
EpsilonPlacement placement(ConfigReader& r) {
  return parse_epsilon_placement(r.string("epsilon_placement", "keras", {"keras", "pytorch"}));
}

// Keras' base-optimizer arguments. Settings that do not change the update normlab computes are
// accepted; gradient accumulation is refused rather than ignored.
OptimizerOptions read_options(ConfigReader& r, std::optional<float> weight_decay) {
  r.ignore({"name", "is_legacy_optimizer", "jit_compile", "loss_scale_factor", "decay"});
  r.require_null({"gradient_accumulation_steps"}, "not supported by normlab");
  OptimizerOptions o;
  if (const nlohmann::json& lr = r.raw("learning_rate"); lr.is_object())
    o.learning_rate_schedule = schedule_from_json(lr, r.path_of("learning_rate"));
  if (!r.raw("weight_decay").is_null() || weight_decay)
    o.weight_decay =
        static_cast<float>(r.number("weight_decay", weight_decay.value_or(0.0f), 0, 1e9));
  o.clipnorm = static_cast<float>(r.number("clipnorm", 0, 0, 1e30, true));
  o.global_clipnorm = static_cast<float>(r.number("global_clipnorm", 0, 0, 1e30, true));
  o.clipvalue = static_cast<float>(r.number("clipvalue", 0, 0, 1e30, true));
  if ((o.clipnorm > 0) + (o.global_clipnorm > 0) + (o.clipvalue > 0) > 1)
    r.fail("clipnorm", "only one of clipnorm, global_clipnorm and clipvalue to be set");
  const nlohmann::json& excluded = r.raw("exclude_from_weight_decay");
  if (!excluded.is_null()) {
    if (!excluded.is_array()) r.fail("exclude_from_weight_decay", "a list of name patterns");
    for (const auto& pattern : excluded) {
      if (!pattern.is_string())
        r.fail("exclude_from_weight_decay", "a list of name patterns (strings)");
      try {
        std::regex check_syntax(pattern.get<std::string>());
      } catch (const std::regex_error&) {
        r.fail("exclude_from_weight_decay", "regular expressions, got " + pattern.dump());
      }
      o.exclude_from_weight_decay.push_back(pattern.get<std::string>());
    }
  }
  o.use_ema = r.boolean("use_ema", false);
  o.ema_momentum = static_cast<float>(r.number("ema_momentum", o.ema_momentum, 0, 1));
  o.ema_overwrite_frequency = r.integer("ema_overwrite_frequency", 0, 1, std::int64_t{1} << 40);
  return o;
}

std::unique_ptr<Optimizer> adam_from(ConfigReader& r, bool adamw) {
  AdamConfig c;
  c.learning_rate = learning_rate(r, c.learning_rate);
  c.beta_1 = decay(r, "beta_1", c.beta_1);
  c.beta_2 = decay(r, "beta_2", c.beta_2);
  c.epsilon = epsilon(r, c.epsilon);
  c.epsilon_placement = placement(r);
  c.amsgrad = r.boolean("amsgrad", false);
  if (!adamw) return std::make_unique<Adam>(c, read_options(r, std::nullopt));
  return std::make_unique<AdamW>(c, read_options(r, AdamW::kDefaultWeightDecay));
}

std::unique_ptr<Optimizer> sgd_from(ConfigReader& r) {
  SgdConfig c;
  c.learning_rate = learning_rate(r, c.learning_rate);
  c.momentum = decay(r, "momentum", c.momentum);
  c.nesterov = r.boolean("nesterov", false);
  return std::make_unique<SGD>(c, read_options(r, std::nullopt));
}

std::unique_ptr<Optimizer> rmsprop_from(ConfigReader& r) {
  RmspropConfig c;
  c.learning_rate = learning_rate(r, c.learning_rate);
  c.rho = decay(r, "rho", c.rho);
  c.momentum = decay(r, "momentum", c.momentum);
  c.epsilon = epsilon(r, c.epsilon);
  c.centered = r.boolean("centered", false);
  c.epsilon_placement = placement(r);
  return std::make_unique<RMSprop>(c, read_options(r, std::nullopt));
}

std::unique_ptr<Optimizer> nadam_from(ConfigReader& r) {
  NadamConfig c;
  c.learning_rate = learning_rate(r, c.learning_rate);
  c.beta_1 = decay(r, "beta_1", c.beta_1);
  c.beta_2 = decay(r, "beta_2", c.beta_2);
  c.epsilon = epsilon(r, c.epsilon);
  c.momentum_decay = static_cast<float>(r.number("momentum_decay", 1.0, 0, 1e9, true));
  return std::make_unique<Nadam>(c, read_options(r, std::nullopt));
}

std::unique_ptr<Optimizer> adagrad_from(ConfigReader& r) {
  AdagradConfig c;
  c.learning_rate = learning_rate(r, c.learning_rate);
  c.initial_accumulator_value =
      static_cast<float>(r.number("initial_accumulator_value", 0.1, 0, 1e30));
  c.epsilon = epsilon(r, c.epsilon);
  c.epsilon_placement = placement(r);
  return std::make_unique<Adagrad>(c, read_options(r, std::nullopt));
}

std::unique_ptr<Optimizer> adadelta_from(ConfigReader& r) {
  AdadeltaConfig c;
  c.learning_rate = learning_rate(r, c.learning_rate);
  c.rho = decay(r, "rho", c.rho);
  c.epsilon = epsilon(r, c.epsilon);
  return std::make_unique<Adadelta>(c, read_options(r, std::nullopt));
}

std::unique_ptr<Optimizer> adamax_from(ConfigReader& r) {
  AdamaxConfig c;
  c.learning_rate = learning_rate(r, c.learning_rate);
  c.beta_1 = decay(r, "beta_1", c.beta_1);
  c.beta_2 = decay(r, "beta_2", c.beta_2);
  c.epsilon = epsilon(r, c.epsilon);
  c.epsilon_placement = placement(r);
  return std::make_unique<Adamax>(c, read_options(r, std::nullopt));
}

std::unique_ptr<Optimizer> lion_from(ConfigReader& r) {
  LionConfig c;
  c.learning_rate = learning_rate(r, c.learning_rate);
  c.beta_1 = static_cast<float>(r.number("beta_1", c.beta_1, 0, 1, true));
  c.beta_2 = decay(r, "beta_2", c.beta_2);
  return std::make_unique<Lion>(c, read_options(r, std::nullopt));
}

using Factory = std::function<std::unique_ptr<Optimizer>(ConfigReader&)>;

// Keras' class names and the lower-case names keras.optimizers.get() takes.
const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = [] {
    std::map<std::string, Factory> t;
    const std::vector<std::pair<std::string, Factory>> classes = {
        {"Adam", [](ConfigReader& r) { return adam_from(r, false); }},
        {"AdamW", [](ConfigReader& r) { return adam_from(r, true); }},
        {"SGD", sgd_from},
        {"RMSprop", rmsprop_from},
        {"Nadam", nadam_from},
        {"Adagrad", adagrad_from},
        {"Adadelta", adadelta_from},
        {"Adamax", adamax_from},
        {"Lion", lion_from}};
    for (const auto& [name, make] : classes) {
      std::string lower = name;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      t[name] = make;
      t[lower] = make;
    }
    return t;
  }();
  return table;
}

const char* kKnown =
    "\"Adam\", \"AdamW\", \"SGD\", \"RMSprop\", \"Nadam\", \"Adagrad\", \"Adadelta\", "
    "\"Adamax\" or \"Lion\"";
}  // namespace

std::unique_ptr<Optimizer> optimizer_from_json(const nlohmann::json& value,
                                               const std::string& path) {
  std::string name;
  nlohmann::json config = nlohmann::json::object();
  std::string config_path = path;
  if (value.is_string()) {
    name = value.get<std::string>();
  } else if (value.is_object()) {
    ConfigReader outer(value, path);
    name = outer.string("class_name", "");
    if (name.empty())
      outer.fail("class_name", std::string("the optimizer's class name, ") + kKnown);
    if (outer.has("config")) config = outer.raw("config");
    outer.ignore({"module", "registered_name"});
    outer.finish();
    config_path = path + ".config";
  } else {
    throw Error(path + ": expected an optimizer name or {\"class_name\": ..., \"config\": ...}, " +
                "got " + describe_json(value));
  }
  const auto it = factories().find(name);
  if (it == factories().end())
    throw Error(path + ": unknown optimizer '" + name + "'; expected " + kKnown);
  ConfigReader r(config, config_path);
  std::unique_ptr<Optimizer> optimizer = it->second(r);
  r.finish();
  return optimizer;
}

nlohmann::json optimizer_to_json(const Optimizer& optimizer) {
  return {{"class_name", optimizer.class_name()}, {"config", optimizer.get_config()}};
}

}  // namespace normlab
