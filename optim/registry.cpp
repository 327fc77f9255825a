#include "optim/registry.h"

#include "core/config_reader.h"
#include "core/error.h"
#include "optim/adam.h"
#include "optim/sgd.h"

namespace normlab {

namespace {
// Keras optimizer settings that do not change the update normlab computes when left at their
// defaults; anything else (weight decay, clipping, EMA) is refused rather than ignored.
void read_common(ConfigReader& r) {
  r.ignore({"name", "is_legacy_optimizer", "jit_compile", "loss_scale_factor",
            "gradient_accumulation_steps", "decay"});
  r.require_null({"weight_decay", "clipnorm", "global_clipnorm", "clipvalue"},
                 "not supported by normlab");
  if (r.boolean("use_ema", false)) r.fail("use_ema", "false (not supported by normlab)");
  r.ignore({"ema_momentum", "ema_overwrite_frequency"});
}

std::unique_ptr<Optimizer> adam_from(ConfigReader& r) {
  AdamConfig c;
  c.learning_rate = static_cast<float>(r.number("learning_rate", c.learning_rate, 0, 1e9, true));
  c.beta_1 = static_cast<float>(r.number("beta_1", c.beta_1, 0, 1, false, true));
  c.beta_2 = static_cast<float>(r.number("beta_2", c.beta_2, 0, 1, false, true));
  c.epsilon = static_cast<float>(r.number("epsilon", c.epsilon, 0, 1e9, true));
  c.epsilon_placement =
      parse_epsilon_placement(r.string("epsilon_placement", "keras", {"keras", "pytorch"}));
  if (r.boolean("amsgrad", false)) r.fail("amsgrad", "false (not supported by normlab)");
  read_common(r);
  return std::make_unique<Adam>(c);
}

std::unique_ptr<Optimizer> sgd_from(ConfigReader& r) {
  SgdConfig c;
  c.learning_rate = static_cast<float>(r.number("learning_rate", c.learning_rate, 0, 1e9, true));
  c.momentum = static_cast<float>(r.number("momentum", c.momentum, 0, 1, false, true));
  c.nesterov = r.boolean("nesterov", false);
  read_common(r);
  return std::make_unique<SGD>(c);
}
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
    if (name.empty()) outer.fail("class_name", "the optimizer's class name, \"Adam\" or \"SGD\"");
    if (outer.has("config")) config = outer.raw("config");
    outer.ignore({"module", "registered_name"});
    outer.finish();
    config_path = path + ".config";
  } else {
    throw Error(path + ": expected an optimizer name or {\"class_name\": ..., \"config\": ...}, " +
                "got " + describe_json(value));
  }
  ConfigReader r(config, config_path);
  std::unique_ptr<Optimizer> optimizer;
  if (name == "Adam" || name == "adam")
    optimizer = adam_from(r);
  else if (name == "SGD" || name == "sgd")
    optimizer = sgd_from(r);
  else
    throw Error(path + ": unknown optimizer '" + name + "'; expected \"Adam\" or \"SGD\"");
  r.finish();
  return optimizer;
}

nlohmann::json optimizer_to_json(const Optimizer& optimizer) {
  return {{"class_name", optimizer.class_name()}, {"config", optimizer.get_config()}};
}

}  // namespace normlab
