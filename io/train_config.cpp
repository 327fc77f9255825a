#include "io/train_config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <tuple>

#include "core/config_reader.h"
#include "core/error.h"
#include "core/text.h"
#include "data/csv.h"
#include "data/generators.h"
#include "io/compile_config.h"
#include "io/model_file.h"
#include "layers/presets.h"
#include "model/csv_logger.h"
#include "model/early_stopping.h"
#include "model/losses.h"
#include "model/precise_bn.h"
#include "model/reduce_lr_on_plateau.h"
#include "model/step_logger.h"
#include "optim/registry.h"

namespace normlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::int64_t kMaxSeed = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMaxCount = std::int64_t{1} << 30;
constexpr double kMaxDataFloats = 1 << 28;

fs::path resolve(const fs::path& base_dir, const std::string& path) {
  const fs::path p(path);
  return p.is_absolute() ? p : base_dir / p;
}

// A string that must be present.
std::string required_string(ConfigReader& r, const std::string& key, const std::string& what) {
  if (!r.has(key)) r.fail(key, what);
  return r.string(key, "");
}

// "x0", "x1", ..., "x<n-1>"
std::vector<std::string> numbered(const std::string& stem, std::size_t n) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) names.push_back(stem + std::to_string(i));
  return names;
}

// ---- data ----------------------------------------------------------------------------------

struct Source {
  Dataset data;
  std::vector<std::string> features, labels;
  CsvOrigin origin;  // for a CSV file: where its rows came from
};

// A non-empty array of distinct, non-empty strings.
std::vector<std::string> read_label_columns(ConfigReader& r) {
  const json& v = r.raw("label_columns");
  const std::string expected = "a non-empty list of column names, such as [\"y\"]";
  if (!v.is_array() || v.empty()) r.fail("label_columns", expected);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = r.path_of("label_columns") + "[" + std::to_string(i) + "]";
    check(v[i].is_string() && !v[i].get<std::string>().empty(),
          at + ": expected a column name, got " + describe_json(v[i]));
    const std::string name = v[i].get<std::string>();
    check(std::find(names.begin(), names.end(), name) == names.end(),
          at + ": column '" + name + "' is listed twice");
    names.push_back(name);
  }
  return names;
}

// One SOURCE (see the header). `default_labels` stands in for a missing label_columns (the
// validation data take the training data's); null makes label_columns required.
Source read_source(const json& value, const std::string& path, const fs::path& base_dir,
                   const std::vector<std::string>* default_labels) {
  ConfigReader r(value, path);
  r.ignore({"description"});
  const bool csv = r.has("csv"), generator = r.has("generator");
  if (csv == generator)
    throw Error(path +
                ": expected exactly one of \"csv\" (a file name) and \"generator\" "
                "(\"imbalanced\" or \"regression\"), got " +
                describe_json(value));
  Source s;
  if (csv) {
    const fs::path file = resolve(base_dir, required_string(r, "csv", "a CSV file name"));
    if (r.has("label_columns") || default_labels == nullptr)
      s.labels = read_label_columns(r);
    else
      s.labels = *default_labels;
    r.finish();
    with_context(r.path_of("csv"), [&] {
      s.data = read_csv(file.string(), s.labels, &s.origin);
      for (const auto& name : csv_header(file.string()))
        if (std::find(s.labels.begin(), s.labels.end(), name) == s.labels.end())
          s.features.push_back(name);
    });
    return s;
  }
  const std::string kind = r.string("generator", "", {"imbalanced", "regression"});
  const auto seed = static_cast<std::uint64_t>(r.integer("seed", 0, 0, kMaxSeed));
  if (kind == "imbalanced") {
    r.finish();
    s.data = make_imbalanced(seed);
  } else {
    const auto rows = static_cast<std::size_t>(r.integer("rows", 1000, 1, kMaxCount));
    const auto features = static_cast<std::size_t>(r.integer("features", 10, 1, 1 << 16));
    const auto targets = static_cast<std::size_t>(r.integer("targets", 64, 1, 1 << 16));
    r.finish();
    // A bound on what a config can make normlab allocate: 1 GiB of floats.
    check(static_cast<double>(rows) * static_cast<double>(features + targets) <= kMaxDataFloats,
          path + ": " + std::to_string(rows) + " rows of " + std::to_string(features) +
              " features and " + std::to_string(targets) + " targets are more than " +
              std::to_string(kMaxDataFloats) + " numbers");
    s.data = make_regression(rows, seed, features, targets);
  }
  s.features = numbered("x", s.data.x.cols());
  s.labels = s.data.y.cols() == 1 ? std::vector<std::string>{"y"} : numbered("y", s.data.y.cols());
  return s;
}

// Checks a dataset fits the compiled model: input width and targets the loss accepts.
void check_fits_model(const Source& s, const std::string& path, Sequential& model) {
  check(s.data.x.cols() == model.input_dim(),
        path + ": " + std::to_string(s.data.x.cols()) + " feature columns (" + join(s.features) +
            "), but the model takes inputs of width " + std::to_string(model.input_dim()));
  with_context(path, [&] {
    try {
      model.loss().check_targets(s.data.y, model.output_dim());
    } catch (const TargetError& e) {
      if (s.origin.lines.empty()) throw;
      throw Error(s.origin.label_cell(e.row(), e.column()) + ": " + e.unplaced());
    }
  });
}

void read_data(const json& value, const fs::path& base_dir, TrainConfig& cfg) {
  if (value.is_null())
    throw Error(
        "data: expected {\"train\": {\"csv\": ..., \"label_columns\": [...]} or "
        "{\"generator\": ...}}, got nothing");
  ConfigReader r(value, "data");
  r.ignore({"description"});
  if (!r.has("train")) r.fail("train", "the training data {\"csv\": ...} or {\"generator\": ...}");
  const json& train = r.raw("train");
  const json& validation = r.raw("validation");
  const bool split = r.has("validation_split");
  const double fraction = r.number("validation_split", 0.0, 0.0, 1.0, true, true);
  if (split && !validation.is_null())
    r.fail("validation_split",
           "no validation_split when \"validation\" is given (one or the other)");
  r.finish();

  Source t = read_source(train, "data.train", base_dir, nullptr);
  check_fits_model(t, "data.train", cfg.model);
  if (!validation.is_null()) {
    Source v = read_source(validation, "data.validation", base_dir, &t.labels);
    check(v.features == t.features, "data.validation: the feature columns (" + join(v.features) +
                                        ") differ from the training data's (" + join(t.features) +
                                        ")");
    check_fits_model(v, "data.validation", cfg.model);
    cfg.validation = std::move(v.data);
  } else if (split) {
    // Keras' validation_split: the last rows, before any shuffling.
    with_context(r.path_of("validation_split"),
                 [&] { std::tie(t.data, cfg.validation) = split_validation(t.data, fraction); });
  }
  cfg.train = std::move(t.data);
  cfg.feature_columns = std::move(t.features);
  cfg.label_columns = std::move(t.labels);
}

// ---- fit -----------------------------------------------------------------------------------

// Keras' class_weight {class index: weight}; JSON keys are strings: {"0": 1.0, "1": 10.0}.
std::vector<std::pair<std::size_t, float>> read_class_weight(ConfigReader& r) {
  const json& v = r.raw("class_weight");
  if (v.is_null()) return {};
  if (!v.is_object()) r.fail("class_weight", "an object {\"class index\": weight, ...}");
  std::vector<std::pair<std::size_t, float>> weights;
  for (const auto& [key, weight] : v.items()) {
    const std::string at = r.path_of("class_weight") + "." + key;
    std::size_t used = 0;
    unsigned long index = 0;
    try {
      index = std::stoul(key, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    check(!key.empty() && used == key.size() && std::isdigit(static_cast<unsigned char>(key[0])),
          at + ": expected a class index (0, 1, ...) as the key, got \"" + key + "\"");
    check(weight.is_number() && !weight.is_boolean() && weight.get<double>() >= 0.0,
          at + ": expected a weight >= 0, got " + describe_json(weight));
    weights.emplace_back(index, weight.get<float>());
  }
  return weights;
}

void read_fit(const json& value, const fs::path& base_dir, const TrainOverrides& overrides,
              TrainConfig& cfg) {
  const json section = value.is_null() ? json::object() : value;  // the reader keeps a reference
  ConfigReader r(section, "fit");
  r.ignore({"description"});
  FitOptions& f = cfg.fit;
  f.batch_size = static_cast<std::size_t>(r.integer("batch_size", 32, 1, kMaxCount));
  f.epochs = static_cast<int>(r.integer("epochs", 1, 0, kMaxCount));
  f.steps_per_epoch = static_cast<std::size_t>(r.integer("steps_per_epoch", 0, 1, kMaxCount));
  f.shuffle = r.boolean("shuffle", true);
  f.seed = static_cast<std::uint64_t>(r.integer("seed", 0, 0, kMaxSeed));
  const json& verbose = r.raw("verbose");
  if (verbose.is_string() && verbose != "auto") r.fail("verbose", "0, 1, 2 or \"auto\"");
  f.verbose = verbose.is_string() ? 1 : static_cast<int>(r.integer("verbose", 1, 0, 2));
  f.class_weight = read_class_weight(r);
  const json& callbacks = r.raw("callbacks");
  if (!callbacks.is_null() && !callbacks.is_array())
    r.fail("callbacks", "a list of {\"class_name\": ..., \"config\": {...}}");
  r.finish();
  for (std::size_t i = 0; !callbacks.is_null() && i < callbacks.size(); ++i)
    cfg.callbacks.push_back(callback_from_json(
        callbacks[i], r.path_of("callbacks") + "[" + std::to_string(i) + "]", base_dir));

  if (overrides.epochs) f.epochs = *overrides.epochs;
  if (overrides.seed) f.seed = *overrides.seed;
  if (overrides.verbose) f.verbose = *overrides.verbose;
}

// ---- callbacks -----------------------------------------------------------------------------

using CallbackFactory =
    std::function<std::unique_ptr<Callback>(ConfigReader&, const fs::path& base_dir)>;

std::unique_ptr<Callback> csv_logger_from(ConfigReader& r, const fs::path& base_dir) {
  const fs::path file = resolve(base_dir, required_string(r, "filename", "a file name"));
  const std::string separator = r.string("separator", ",");
  if (separator.size() != 1 || separator == "\n" || separator == "\"")
    r.fail("separator", "one character, such as \",\"");
  const bool append = r.boolean("append", false);
  return std::make_unique<CSVLogger>(file.string(), separator[0], append);
}

// Keras' TerminateOnNaN takes no settings.
std::unique_ptr<Callback> terminate_on_nan_from(ConfigReader&, const fs::path&) {
  return std::make_unique<TerminateOnNaN>();
}

std::unique_ptr<Callback> step_logger_from(ConfigReader& r, const fs::path& base_dir) {
  return std::make_unique<StepLogger>(
      resolve(base_dir, required_string(r, "filename", "a file name")).string());
}

// PreciseBN {every_epochs, batches, batch_size}; fit_options() gives it the training inputs.
std::unique_ptr<Callback> precise_bn_from(ConfigReader& r, const fs::path&) {
  const auto every = static_cast<int>(r.integer("every_epochs", 1, 1, kMaxCount));
  const RecalibrateOptions options{
      .batch_size = static_cast<std::size_t>(r.integer("batch_size", 32, 1, kMaxCount)),
      .batches = static_cast<std::size_t>(r.integer("batches", 0, 0, kMaxCount))};
  return std::make_unique<PreciseBN>(every, options);
}

// EarlyStopping and ReduceLROnPlateau with Keras' argument names and defaults; a constructor's
// check names no field, so the settings are checked here.
std::string monitor_mode(ConfigReader& r) {
  return r.string("mode", "auto", {"auto", "min", "max"});
}

std::unique_ptr<Callback> early_stopping_from(ConfigReader& r, const fs::path&) {
  EarlyStoppingConfig c;
  c.monitor = r.string("monitor", c.monitor);
  c.min_delta = r.number("min_delta", 0.0, -1e30, 1e30);
  c.patience = static_cast<int>(r.integer("patience", 0, 0, kMaxCount));
  c.mode = monitor_mode(r);
  if (r.has("baseline")) c.baseline = r.number("baseline", 0.0, -1e30, 1e30);
  r.raw("baseline");
  c.restore_best_weights = r.boolean("restore_best_weights", false);
  c.start_from_epoch = static_cast<int>(r.integer("start_from_epoch", 0, 0, kMaxCount));
  c.verbose = static_cast<int>(r.integer("verbose", 0, 0, 2));
  try {
    return std::make_unique<EarlyStopping>(c);
  } catch (const Error& e) {
    r.fail("monitor", std::string("a key whose direction is known, or a mode (") + e.what() + ")");
  }
}

std::unique_ptr<Callback> reduce_lr_on_plateau_from(ConfigReader& r, const fs::path&) {
  ReduceLROnPlateauConfig c;
  c.monitor = r.string("monitor", c.monitor);
  c.factor = r.number("factor", c.factor, 0, 1, true, true);
  c.patience = static_cast<int>(r.integer("patience", c.patience, 0, kMaxCount));
  c.mode = monitor_mode(r);
  c.min_delta = r.number("min_delta", c.min_delta, -1e30, 1e30);
  c.cooldown = static_cast<int>(r.integer("cooldown", 0, 0, kMaxCount));
  c.min_lr = r.number("min_lr", 0.0, 0, 1e9);
  c.verbose = static_cast<int>(r.integer("verbose", 0, 0, 2));
  return std::make_unique<ReduceLROnPlateau>(c);
}

const std::map<std::string, CallbackFactory>& callback_factories() {
  static const std::map<std::string, CallbackFactory> table = {
      {"CSVLogger", csv_logger_from},   {"EarlyStopping", early_stopping_from},
      {"PreciseBN", precise_bn_from},   {"ReduceLROnPlateau", reduce_lr_on_plateau_from},
      {"StepLogger", step_logger_from}, {"TerminateOnNaN", terminate_on_nan_from}};
  return table;
}

}  // namespace

std::unique_ptr<Callback> callback_from_json(const json& value, const std::string& path,
                                             const fs::path& base_dir) {
  ConfigReader outer(value, path);
  const std::string class_name =
      required_string(outer, "class_name", "a callback class such as \"CSVLogger\"");
  const json config = outer.has("config") ? outer.raw("config") : json::object();
  outer.ignore({"module", "registered_name"});
  outer.finish();
  const auto it = callback_factories().find(class_name);
  if (it == callback_factories().end()) {
    std::vector<std::string> known;
    for (const auto& [name, factory] : callback_factories()) known.push_back(name);
    throw Error(outer.path_of("class_name") + ": unknown callback '" + class_name +
                "'; expected one of " + join(known));
  }
  ConfigReader r(config, path + ".config");
  auto callback = it->second(r, base_dir);
  r.finish();
  return callback;
}

FitOptions TrainConfig::fit_options() const {
  FitOptions options = fit;
  options.validation_data = validation;
  for (const auto& c : callbacks) {
    if (auto* precise_bn = dynamic_cast<PreciseBN*>(c.get())) precise_bn->set_data(train.x);
    options.callbacks.push_back(c.get());
  }
  return options;
}

TrainConfig train_config_from_json(const json& config, const fs::path& base_dir,
                                   const std::string& display_name,
                                   const TrainOverrides& overrides) {
  check(config.is_object(),
        "expected a JSON object {\"model\": ..., \"compile\": ..., \"data\": ..., \"fit\": ...}, "
        "got " +
            describe_json(config));
  ConfigReader r(config, "");
  TrainConfig cfg;
  cfg.source = display_name;
  cfg.description = r.string("description", "");
  const json& model = r.raw("model");
  const json& initial_weights = r.raw("initial_weights");
  const json& compile = r.raw("compile");
  const json& data = r.raw("data");
  const json& fit = r.raw("fit");
  if (!initial_weights.is_null() && !initial_weights.is_string())
    r.fail("initial_weights", "the path of a saved model directory");
  r.finish();  // a misspelt section is reported before any work is done

  read_fit(fit, base_dir, overrides, cfg);
  if (model.is_null())
    throw Error(
        "model: expected {\"input_dim\": ..., \"layers\": [...]}, a Keras model topology or "
        "the path of a saved model, got nothing");
  cfg.model = model_from_json(model, "model", base_dir, cfg.fit.seed);
  if (initial_weights.is_string()) {
    const fs::path dir = resolve(base_dir, initial_weights.get<std::string>());
    with_context("initial_weights", [&] { load_weights(cfg.model, dir); });
  }
  const bool has_preset = model.is_object() && model.contains("preset") &&
                          model["preset"].is_string() && !model.contains("class_name");
  compile_from_config(compile, has_preset ? model["preset"].get<std::string>() : "", cfg.model);
  read_data(data, base_dir, cfg);
  return cfg;
}

TrainConfig parse_train_config(const std::string& text, const fs::path& base_dir,
                               const std::string& display_name, const TrainOverrides& overrides) {
  json config;
  try {
    config = json::parse(text, depth_limit());
  } catch (const Error& e) {
    throw Error(display_name + ": " + e.what());
  } catch (const json::exception& e) {
    // A syntax error, or a number beyond double's range (1e999: out_of_range.406). The message
    // is nlohmann's after its "[json.exception.parse_error.101] " tag.
    std::string what = e.what();
    if (const auto end = what.find("] "); end != std::string::npos) what = what.substr(end + 2);
    if (json::accept(text, /*ignore_comments=*/true))  // valid but for its comments
      what += " (JSON has no comments: put notes in a \"description\" key)";
    throw Error(display_name + ": not valid JSON: " + what);
  }
  return with_context(display_name, [&] {
    return train_config_from_json(config, base_dir, display_name, overrides);
  });
}

TrainConfig load_train_config(const fs::path& path, const TrainOverrides& overrides) {
  const std::string name = path.string();
  check(!fs::is_directory(path), name + ": is a folder; expected a JSON config file");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::string message = name + ": cannot read the config file (";
    message += std::strerror(errno);
    message += ")";
    throw Error(message);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_train_config(text.str(), path.parent_path(), name, overrides);
}

}  // namespace normlab
