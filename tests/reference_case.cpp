#include "reference_case.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "core/config_reader.h"
#include "core/error.h"
#include "layers/batch_normalization.h"
#include "layers/layer_normalization.h"
#include "layers/registry.h"
#include "model/losses.h"
#include "model/sequential.h"
#include "optim/registry.h"

namespace normlab::reference {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kRule = "abs(actual - expected) <= atol + rtol * abs(expected), elementwise";
constexpr const char* kAlternative = "alternative_adam_epsilon_placement";
// The moving-variance conventions: the case's label and normlab's moving_variance_update. The
// first is Keras' and the one whose run gives the convention-free quantities.
const std::vector<std::pair<std::string, std::string>> kConventions = {
    {"keras_biased", "biased"}, {"pytorch_unbiased", "unbiased"}};
// Top-level keys that describe a case without changing what is computed.
const std::vector<std::string> kInformational = {
    "visibility",  "description",       "inputs_note",
    "conventions", "cross_checks",      "generated_by",
    "notes",       "numerical_margins", "variance_convention_check"};
// Schema v2's other alternative_<what> blocks (a PyTorch formula or a likely mistake) are
// information only; alternative_adam_epsilon_placement is run and compared.
bool informational_alternative(const std::string& key) {
  return key.starts_with("alternative_") && key != kAlternative;
}
// The expected quantities of a trajectory, which alternative_adam_epsilon_placement may repeat.
const std::vector<std::string> kTrajectoryQuantities = {"per_step_loss", "first_step_grads",
                                                        "final_weights", "final_moving_stats",
                                                        "predictions_inference"};

std::string str(std::size_t i) {
  return std::to_string(i);
}

std::string scientific(double x) {
  std::ostringstream s;
  s << std::scientific << std::setprecision(1) << x;
  return s.str();
}

std::string percent(double ratio) {
  if (!std::isfinite(ratio)) return "inf";
  std::ostringstream s;
  const double p = 100.0 * ratio;
  if (p >= 10.0)
    s << std::llround(p);
  else
    s << std::setprecision(2) << p;
  return s.str() + "%";
}

// ---------------------------------------------------------------------------------------------
// Arrays: the numbers of one quantity with their shape ([] scalar, [n] vector, [n, m] matrix).

struct Array {
  std::vector<std::size_t> shape;
  std::vector<double> values;
};

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += str(shape[i]);
  }
  return s + "]";
}

std::string index_text(const Array& a, std::size_t flat) {
  if (a.shape.size() == 2)
    return "[" + str(flat / a.shape[1]) + "][" + str(flat % a.shape[1]) + "]";
  return a.shape.empty() ? "" : "[" + str(flat) + "]";
}

double number(const json& v, const std::string& path) {
  check(v.is_number(), path + ": expected a number, got " + describe_json(v));
  return v.get<double>();
}

Array array_from_json(const json& v, const std::string& path) {
  Array a;
  if (v.is_number()) {
    a.values.push_back(v.get<double>());
    return a;
  }
  check(v.is_array(), path + ": expected a number or an array of numbers, got " + describe_json(v));
  const bool matrix = !v.empty() && v.front().is_array();
  a.shape = matrix ? std::vector<std::size_t>{v.size(), v.front().size()}
                   : std::vector<std::size_t>{v.size()};
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = path + "[" + str(i) + "]";
    if (!matrix) {
      a.values.push_back(number(v[i], at));
      continue;
    }
    check(v[i].is_array() && v[i].size() == a.shape[1],
          at + ": expected a row of " + str(a.shape[1]) +
              " numbers (every row as long as the first), got " + describe_json(v[i]));
    for (std::size_t j = 0; j < v[i].size(); ++j)
      a.values.push_back(number(v[i][j], at + "[" + str(j) + "]"));
  }
  return a;
}

// A variable as the schema writes it: vectors (bias, gamma, statistics: 1 x D) as [D], other
// tensors as [rows, cols].
Array array_from_tensor(const Tensor& t, bool vector) {
  return {vector && t.rows() == 1 ? std::vector<std::size_t>{t.cols()}
                                  : std::vector<std::size_t>{t.rows(), t.cols()},
          {t.begin(), t.end()}};
}

// Inputs [rows][cols] as float32 (every input of a case is exact in float32). With `column`,
// a list [n] is accepted as n x 1 (class indices, one per row).
Tensor tensor_from_json(const json& v, const std::string& path, bool column = false) {
  const Array a = array_from_json(v, path);
  const bool matrix = a.shape.size() == 2, list = column && a.shape.size() == 1;
  check((matrix || list) && !a.values.empty(),
        path + ": expected a non-empty matrix [rows][columns]" +
            (column ? std::string(" or a list") : std::string()) + ", got shape " +
            shape_text(a.shape));
  Tensor t(a.shape[0], matrix ? a.shape[1] : 1);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(a.values[i]);
  return t;
}

// Sets every variable of a built layer from {name: values}, which must give each of them with
// its shape and nothing else.
void set_weights(Layer& layer, const json& weights, const std::string& path) {
  ConfigReader r(weights, path);
  for (const Variable& v : layer.variables()) {
    if (!r.has(v.name))
      r.fail(v.name, "the initial " + v.name + " of " + layer.where() + " (every weight is given)");
    const Array a = array_from_json(r.raw(v.name), r.path_of(v.name));
    const Array want = array_from_tensor(*v.value, v.vector);
    check(a.shape == want.shape, r.path_of(v.name) + ": shape " + shape_text(a.shape) + ", but " +
                                     layer.where() + " has " + v.name + " of shape " +
                                     shape_text(want.shape));
    for (std::size_t i = 0; i < a.values.size(); ++i)
      (*v.value)[i] = static_cast<float>(a.values[i]);
  }
  r.finish();
}

void copy_rows(const Tensor& src, std::size_t begin, std::size_t end, Tensor& dst) {
  dst.resize(end - begin, src.cols());
  std::copy(src.row(begin), src.row(begin) + (end - begin) * src.cols(), dst.data());
}

json read_json(const fs::path& file) {
  std::ifstream in(file);
  check(in.good(), file.string() + ": cannot be opened");
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    throw Error(file.string() + ": not valid JSON: " + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Layers. A case's layer object is a Keras layer config with the class name inlined as "type":
// {"type": "Dense", "units": 5, "activation": "relu", "use_bias": true}. layers/registry.h reads
// it, so every key is checked and an unknown class, activation or option is an error.

struct LayerSpec {
  std::string type;
  json config;
  std::string path;
};

LayerSpec layer_spec(const json& v, const std::string& path) {
  check(v.is_object() && v.contains("type") && v["type"].is_string(),
        path +
            ": expected a layer {\"type\": \"Dense\" | \"BatchNormalization\" | "
            "\"Activation\", ...}, got " +
            describe_json(v));
  LayerSpec spec{v["type"].get<std::string>(), v, path};
  spec.config.erase("type");
  check(!spec.config.contains("moving_variance_update"),
        path +
            ".moving_variance_update: not a case setting; each convention label "
            "(keras_biased, pytorch_unbiased) is run with its own");
  return spec;
}

// variance_update: the moving_variance_update of a BatchNormalization ("biased", "unbiased").
std::unique_ptr<Layer> make_layer(const LayerSpec& spec, const std::string& variance_update) {
  json config = spec.config;
  if (spec.type == "BatchNormalization") config["moving_variance_update"] = variance_update;
  return layer_from_config(spec.type, config, spec.path);
}

// ---------------------------------------------------------------------------------------------
// What normlab computed, by quantity path. An entry without a value says why normlab has none
// there (a batch of one row has no unbiased variance; a Dense layer has no moving statistics):
// the case must give null at that path.

struct Actual {
  std::optional<Array> value;
  std::string why_none;
};
using Actuals = std::map<std::string, Actual>;

void put(Actuals& a, const std::string& path, Array value) {
  a[path] = {std::move(value), ""};
}
void put(Actuals& a, const std::string& path, const Tensor& t, bool vector) {
  put(a, path, array_from_tensor(t, vector));
}
void put_none(Actuals& a, const std::string& path, const std::string& why) {
  a[path] = {std::nullopt, why};
}

bool has_below(const Actuals& a, const std::string& path) {
  for (auto it = a.lower_bound(path); it != a.end() && it->first.starts_with(path); ++it)
    if (it->first.size() > path.size() &&
        (it->first[path.size()] == '.' || it->first[path.size()] == '['))
      return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// The comparison: walks the expected tree, checks each quantity against what normlab computed
// with the tolerance the case gives it, and records one result per quantity.

struct Tolerance {
  double rtol = 0.0, atol = 0.0;
};

class Verifier {
 public:
  Verifier(const json& tolerance, CaseResult& out) : out_(out) {
    ConfigReader r(tolerance, "tolerance");
    r.ignore({"note", "notes"});
    if (r.string("rule", "") != kRule)
      r.fail("rule", std::string("\"") + kRule + "\" (the rule this harness applies)");
    const json& per = r.raw("per_quantity");
    check(per.is_object(),
          "tolerance.per_quantity: expected {quantity: {rtol, atol}}, got " + describe_json(per));
    for (const auto& [key, entry] : per.items()) {
      ConfigReader e(entry, "tolerance.per_quantity[\"" + key + "\"]");
      for (const char* k : {"rtol", "atol"})
        if (!e.has(k)) e.fail(k, "a number >= 0");
      tolerances_[key] = {e.number("rtol", 0.0, 0.0, 1e300), e.number("atol", 0.0, 0.0, 1e300)};
      // Flags and text annotate an entry ("exact_gradient_is_zero": true); a number could be a
      // tolerance setting this rule does not know, so it is refused.
      for (const auto& [k, v] : entry.items())
        if (v.is_boolean() || v.is_string()) e.ignore({k});
      e.finish();
    }
    r.finish();
  }

  // Every quantity of `expected`, named from `path` ("" at the root of `expected`). A quantity
  // whose name starts with `alias` and that has no tolerance entry of its own takes the entry of
  // its name without the prefix. `none_above`: why normlab has nothing at an enclosing path.
  void walk(const json& expected, const std::string& path, const Actuals& actual,
            const std::string& alias = "", const std::string* none_above = nullptr) {
    const auto it = actual.find(path);
    const std::string* none =
        it != actual.end() && !it->second.value ? &it->second.why_none : none_above;
    if (expected.is_null()) {
      used_.insert(path);
      if (none)
        record(path, true, "null as expected (" + *none + ")");
      else
        record(path, false,
               it != actual.end() || has_below(actual, path)
                   ? "expected null, but normlab computes a value here"
                   : "expected null for a quantity normlab does not know in this case");
      return;
    }
    if (expected.is_object()) {
      for (const auto& [key, value] : expected.items())
        if (!(path.empty() && key == "produced_by"))
          walk(value, path.empty() ? key : path + "." + key, actual, alias, none);
      return;
    }
    const bool list = expected.is_array() && !expected.empty() &&
                      std::all_of(expected.begin(), expected.end(),
                                  [](const json& e) { return e.is_object() || e.is_null(); });
    if (list) {
      for (std::size_t i = 0; i < expected.size(); ++i)
        walk(expected[i], path + "[" + str(i) + "]", actual, alias, none);
      return;
    }
    if (none || it == actual.end()) {
      used_.insert(path);
      record(path, false,
             none ? "expected values, but normlab has none: " + *none
                  : "unknown quantity: normlab computes nothing by this name for this case");
      return;
    }
    compare(path, expected, *it->second.value, alias);
  }

  // Fails every tolerance entry that named no expected quantity.
  void finish() {
    for (const auto& [key, tolerance] : tolerances_)
      if (!used_.count(key))
        record(key, false, "tolerance entry for a quantity the case does not expect");
  }

  void record(const std::string& quantity, bool ok, std::string detail) {
    out_.quantities.push_back({quantity, ok, std::move(detail)});
  }

 private:
  void compare(const std::string& path, const json& e, const Array& actual,
               const std::string& alias) {
    std::string key = path, note;
    if (!tolerances_.count(key) && !alias.empty() && path.starts_with(alias)) {
      key = path.substr(alias.size());
      note = "  (at the tolerance of " + key + ": the case gives none of its own)";
    }
    used_.insert(key);
    const auto tolerance = tolerances_.find(key);
    if (tolerance == tolerances_.end()) {
      record(path, false, "no tolerance entry tolerance.per_quantity[\"" + path + "\"]");
      return;
    }
    const auto [rtol, atol] = tolerance->second;
    Array expected;
    try {
      expected = array_from_json(e, "expected." + path);
    } catch (const Error& error) {
      record(path, false, error.what());
      return;
    }
    if (expected.shape != actual.shape) {
      record(path, false,
             "shape mismatch: expected " + shape_text(expected.shape) + ", normlab gives " +
                 shape_text(actual.shape));
      return;
    }
    // worst = max over elements of |err| / (atol + rtol |expected|); the quantity passes at <= 1.
    const double inf = std::numeric_limits<double>::infinity();
    double max_err = 0.0, worst = 0.0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < expected.values.size(); ++i) {
      const double err = std::fabs(actual.values[i] - expected.values[i]);
      const double allowed = atol + rtol * std::fabs(expected.values[i]);
      const double ratio = !std::isfinite(err) ? inf : err == 0.0 ? 0.0 : err / allowed;
      max_err = std::isfinite(err) ? std::max(max_err, err) : inf;
      if (ratio > worst) worst = ratio, at = i;
    }
    const bool ok = worst <= 1.0;
    std::string detail =
        "max|err| " + scientific(max_err) + "  (worst margin " + percent(worst) + ")";
    if (!ok) {
      std::ostringstream where;
      where << std::setprecision(9) << " at " << index_text(expected, at) << ": expected "
            << expected.values[at] << ", normlab " << actual.values[at] << ", allowed +-"
            << atol + rtol * std::fabs(expected.values[at]);
      detail += where.str();
    }
    record(path, ok, detail + note);
  }

  std::map<std::string, Tolerance> tolerances_;
  std::set<std::string> used_;
  CaseResult& out_;
};

// ---------------------------------------------------------------------------------------------
// bn_single_layer and dense_single_layer: one layer, forward and the gradients of
// L = sum(upstream_grad * y).

struct SingleLayerCase {
  LayerSpec layer;
  json initial_weights;
  Tensor x, upstream_grad;
};

SingleLayerCase read_single_layer(ConfigReader& top, const std::string& kind,
                                  const std::string& type) {
  SingleLayerCase c{layer_spec(top.raw("layer"), "layer"), top.raw("initial_weights"), {}, {}};
  check(c.layer.type == type, "layer.type: expected \"" + type + "\" in a " + kind +
                                  " case, got \"" + c.layer.type + "\"");
  ConfigReader in(top.raw("inputs"), "inputs");
  c.x = tensor_from_json(in.raw("x"), "inputs.x");
  c.upstream_grad = tensor_from_json(in.raw("upstream_grad"), "inputs.upstream_grad");
  in.finish();
  return c;
}

std::unique_ptr<Layer> build_single(const LayerSpec& spec, const SingleLayerCase& c,
                                    const std::string& variance_update) {
  auto layer = make_layer(spec, variance_update);
  Rng rng(0);  // the initial values are then all replaced by the case's
  layer->build(c.x.cols(), rng);
  set_weights(*layer, c.initial_weights, "initial_weights");
  return layer;
}

// dx, then the gradient of every trainable variable (gamma, beta; kernel, bias), under prefix.
void put_gradients(Layer& layer, const Tensor& dy, const std::string& prefix, Actuals& a) {
  layer.zero_grad();
  put(a, prefix + ".x", layer.backward(dy), false);
  for (const Variable& v : layer.variables())
    if (v.trainable()) put(a, prefix + "." + v.name, *v.grad, v.vector);
}

// layer_single (LayerNormalization): forward, the gradients of L = sum(upstream_grad * y) and
// the row statistics, one training call.
Actuals run_layer_normalization(const SingleLayerCase& c) {
  Actuals a;
  auto layer = build_single(c.layer, c, "");
  auto& ln = dynamic_cast<LayerNormalization&>(*layer);
  put(a, "forward", ln.forward(c.x, {Mode::Train}), false);
  put_gradients(ln, c.upstream_grad, "grads", a);
  put(a, "row_mean", ln.row_mean(), true);
  put(a, "row_variance", ln.row_variance(), true);
  return a;
}

Actuals run_batch_normalization(const SingleLayerCase& c) {
  Actuals a;
  const Tensor& x = c.x;
  const std::size_t n = x.rows();
  // Inference mode with the initial moving statistics.
  put(a, "forward_inference", build_single(c.layer, c, "biased")->forward(x, {Mode::Infer}), false);
  {
    // Inference-mode gradients: a frozen layer (trainable = false) normalizes with its moving
    // statistics even in a training forward, and its backward holds them constant.
    auto frozen = build_single(c.layer, c, "biased");
    frozen->set_trainable(false);
    frozen->forward(x, {Mode::Train});
    put_gradients(*frozen, c.upstream_grad, "grads_inference", a);
  }
  for (const auto& [label, variance_update] : kConventions) {
    const std::string moving = "moving_stats_after_one_training_call." + label;
    const std::string after = "forward_inference_after_update." + label;
    auto layer = build_single(c.layer, c, variance_update);
    auto& bn = dynamic_cast<BatchNormalization&>(*layer);
    const bool keras = label == kConventions.front().first;
    try {
      const Tensor& y = bn.forward(x, {Mode::Train});
      if (keras) put(a, "forward_training", y, false);
    } catch (const Error& e) {
      if (keras) throw;
      put_none(a, moving, e.what());  // PyTorch's estimator is undefined for one row
      put_none(a, after, e.what());
      continue;
    }
    if (keras) {  // the training step itself does not depend on the convention
      put_gradients(bn, c.upstream_grad, "grads_training", a);
      put(a, "batch_mean", bn.batch_mean(), true);
      Array var = array_from_tensor(bn.batch_variance(), true);
      put(a, "batch_variance_biased", var);
      if (n < 2) {
        put_none(a, "batch_variance_unbiased", "var * n/(n-1) is undefined for a batch of one row");
      } else {
        for (double& v : var.values) v *= static_cast<double>(n) / static_cast<double>(n - 1);
        put(a, "batch_variance_unbiased", var);
      }
    }
    put(a, moving + ".moving_mean", bn.moving_mean, true);
    put(a, moving + ".moving_variance", bn.moving_variance, true);
    put(a, after, bn.forward(x, {Mode::Infer}), false);
  }
  return a;
}

Actuals run_dense(const SingleLayerCase& c) {
  Actuals a;
  auto dense = build_single(c.layer, c, "");
  dense->set_input_grad_needed(true);  // on its own, the layer's dx is wanted
  put(a, "forward", dense->forward(c.x, {Mode::Train}), false);
  put_gradients(*dense, c.upstream_grad, "grads", a);
  // pre_activation = x kernel + bias: the same layer with a linear activation.
  LayerSpec linear = c.layer;
  linear.config["activation"] = "linear";
  put(a, "pre_activation", build_single(linear, c, "")->forward(c.x, {Mode::Infer}), false);
  return a;
}

// ---------------------------------------------------------------------------------------------
// training_trajectory: a Sequential trained step by step through batch_schedule.

struct Trajectory {
  std::size_t input_dim = 0;
  std::vector<LayerSpec> layers;
  json initial_weights;  // one object per layer
  Tensor x, y, eval_x;
  std::vector<std::pair<std::size_t, std::size_t>> schedule;  // [begin, end) rows per step
  std::string loss;
  bool from_logits = false;
  float clip_epsilon = kKerasEpsilon;
  json optimizer;  // {"class_name", "config"}, as optim/registry.h reads it
};

// training.loss: a Keras loss name, or {"name", "from_logits", "clip_epsilon", "reduction"}.
// The reduction must be Keras' default, the mean over the batch ("sum_over_batch_size"; the cases
// describe it in words, "mean over outputs, then mean over batch"); clip_epsilon, the clipping
// bound of probabilities (Keras' epsilon()), is a cross-entropy's only.
void read_loss(const json& v, Trajectory& t) {
  if (v.is_string()) {
    t.loss = v.get<std::string>();
  } else {
    ConfigReader r(v, "training.loss");
    t.loss = r.string("name", "");
    if (t.loss.empty()) r.fail("name", "a loss name");
    t.from_logits = r.boolean("from_logits", false);
    if (r.has("clip_epsilon")) {
      if (t.loss.find("crossentropy") == std::string::npos)
        r.fail("clip_epsilon",
               "no clipping bound for " + t.loss + " (only the cross-entropies clip)");
      t.clip_epsilon =
          static_cast<float>(r.number("clip_epsilon", kKerasEpsilon, 0.0, 0.5, true, true));
    }
    const std::string reduction = r.string("reduction", "sum_over_batch_size");
    const bool batch_mean = reduction == "sum_over_batch_size" ||
                            reduction.starts_with("sum_over_batch_size: ") ||
                            reduction.find("mean over batch") != std::string::npos ||
                            reduction.find("mean over the batch") != std::string::npos;
    if (!batch_mean)
      r.fail("reduction", "the mean over the batch (\"sum_over_batch_size\", Keras' default)");
    if (r.number("label_smoothing", 0.0, 0.0, 1.0) != 0.0)
      r.fail("label_smoothing", "0 (label smoothing is not supported)");
    r.integer("axis", -1, -1, -1);  // classes on the last axis
    r.finish();
  }
  try {
    make_loss(t.loss, t.from_logits, t.clip_epsilon);
  } catch (const Error& e) {
    throw Error(std::string("training.loss: ") + e.what());
  }
}

// training.optimizer: {"name": "adam" | "adamw" | "sgd" | "rmsprop" | ..., Keras'
// hyper-parameters and base-optimizer options (null when unset), "epsilon_convention"}, handed
// to optim/registry.h, which checks every setting and refuses those normlab cannot honour.
// epsilon_convention "keras3" is Keras' placement of epsilon; for Adam also "pytorch" / "tfjs"
// (added after the bias correction).
json read_optimizer(const json& v) {
  check(v.is_object() && v.contains("name") && v["name"].is_string(),
        "training.optimizer: expected {\"name\": \"adam\" | \"sgd\", hyper-parameters...}, got " +
            describe_json(v));
  std::string name = v["name"].get<std::string>();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  json config = json::object();
  for (const auto& [key, value] : v.items())
    if (key != "name" && !value.is_null()) config[key] = value;
  if (config.contains("epsilon_convention")) {
    const std::map<std::string, std::string> placements = {
        {"keras3", "keras"}, {"keras", "keras"}, {"pytorch", "pytorch"}, {"tfjs", "pytorch"}};
    const json& convention = config["epsilon_convention"];
    const bool adam = name == "adam" || name == "adamw";
    check(convention.is_string() && placements.count(convention) &&
              (adam || convention == "keras3") && config.contains("epsilon"),
          "training.optimizer.epsilon_convention: expected \"keras3\" for an optimizer with an "
          "epsilon, or for Adam \"pytorch\" / \"tfjs\", got " +
              describe_json(convention) + " for " + name);
    if (adam) config["epsilon_placement"] = placements.at(convention.get<std::string>());
    config.erase("epsilon_convention");
  }
  // The registry takes Keras' lower-case names and refuses what it cannot run, now; the case
  // keeps the class name it gives ("adamw" -> "AdamW").
  json optimizer = {{"class_name", name}, {"config", config}};
  optimizer["class_name"] = optimizer_from_json(optimizer, "training.optimizer")->class_name();
  return optimizer;
}

Trajectory read_trajectory(ConfigReader& top) {
  Trajectory t;
  ConfigReader model(top.raw("model"), "model");
  t.input_dim = static_cast<std::size_t>(model.integer("input_dim", 0, 1, 1 << 24));
  if (!model.has("input_dim")) model.fail("input_dim", "a positive integer");
  const json& layers = model.raw("layers");
  check(layers.is_array() && !layers.empty(),
        "model.layers: expected a non-empty list of layers, got " + describe_json(layers));
  for (std::size_t i = 0; i < layers.size(); ++i)
    t.layers.push_back(layer_spec(layers[i], "model.layers[" + str(i) + "]"));
  model.finish();

  t.initial_weights = top.raw("initial_weights");
  check(t.initial_weights.is_array() && t.initial_weights.size() == t.layers.size(),
        "initial_weights: expected a list of " + str(t.layers.size()) +
            " objects, one per layer, got " + describe_json(t.initial_weights));

  ConfigReader data(top.raw("data"), "data");
  t.x = tensor_from_json(data.raw("x"), "data.x");
  t.y = tensor_from_json(data.raw("y"), "data.y", true);
  data.finish();
  check(t.x.cols() == t.input_dim, "data.x: rows of " + str(t.x.cols()) +
                                       " numbers, but model.input_dim is " + str(t.input_dim));
  check(t.y.rows() == t.x.rows(),
        "data.y: " + str(t.y.rows()) + " rows for the " + str(t.x.rows()) + " rows of data.x");
  ConfigReader eval(top.raw("eval"), "eval");
  t.eval_x = tensor_from_json(eval.raw("x"), "eval.x");
  eval.finish();
  check(t.eval_x.cols() == t.input_dim, "eval.x: rows of " + str(t.eval_x.cols()) +
                                            " numbers, but model.input_dim is " + str(t.input_dim));

  ConfigReader training(top.raw("training"), "training");
  if (training.boolean("shuffle", false))
    training.fail("shuffle", "false (batch_schedule gives the order of the rows)");
  const auto batch_size = static_cast<std::size_t>(training.integer("batch_size", 0, 1, 1 << 30));
  training.ignore({"epochs"});  // implied by batch_schedule
  const json& schedule = training.raw("batch_schedule");
  check(schedule.is_array() && !schedule.empty(),
        "training.batch_schedule: expected a list of [start, end) row ranges, got " +
            describe_json(schedule));
  for (std::size_t s = 0; s < schedule.size(); ++s) {
    const json& range = schedule[s];
    const bool pair = range.is_array() && range.size() == 2 && range[0].is_number_unsigned() &&
                      range[1].is_number_unsigned();
    const std::size_t begin = pair ? range[0].get<std::size_t>() : 0;
    const std::size_t end = pair ? range[1].get<std::size_t>() : 0;
    check(
        pair && begin < end && end <= t.x.rows() && (batch_size == 0 || end - begin <= batch_size),
        "training.batch_schedule[" + str(s) + "]: expected [start, end) with 0 <= start < " +
            "end <= " + str(t.x.rows()) + " and at most batch_size rows, got " +
            describe_json(range));
    t.schedule.emplace_back(begin, end);
  }
  const auto steps = training.integer("steps", static_cast<std::int64_t>(t.schedule.size()), 1,
                                      std::int64_t{1} << 30);
  check(static_cast<std::size_t>(steps) == t.schedule.size(),
        "training.steps: " + std::to_string(steps) + ", but batch_schedule has " +
            str(t.schedule.size()) + " steps");
  read_loss(training.raw("loss"), t);
  t.optimizer = read_optimizer(training.raw("optimizer"));
  training.finish();
  return t;
}

Sequential build_model(const Trajectory& t, const std::string& variance_update) {
  Sequential model(t.input_dim);
  for (std::size_t i = 0; i < t.layers.size(); ++i) {
    model.add(make_layer(t.layers[i], variance_update));
    set_weights(model.layer(i), t.initial_weights[i], "initial_weights[" + str(i) + "]");
  }
  return model;
}

// Trains a fresh model through the schedule and records, under `prefix`, the quantities of the
// convention `label`; with `all`, also those that do not depend on it (losses, gradients,
// weights).
void train(const Trajectory& t, const json& optimizer, const std::string& label,
           const std::string& variance_update, bool all, const std::string& prefix, Actuals& a) {
  Sequential model = build_model(t, variance_update);
  model.compile(optimizer_from_json(optimizer, "training.optimizer"),
                make_loss(t.loss, t.from_logits, t.clip_epsilon));
  model.loss().check_targets(t.y, model.output_dim());
  Array losses{{t.schedule.size()}, {}};
  Tensor xb, yb;
  for (std::size_t s = 0; s < t.schedule.size(); ++s) {
    copy_rows(t.x, t.schedule[s].first, t.schedule[s].second, xb);
    copy_rows(t.y, t.schedule[s].first, t.schedule[s].second, yb);
    if (s > 0) {
      losses.values.push_back(model.train_on_batch(xb, yb));
      continue;
    }
    // Step 1 as a custom loop, to read the gradients between backward and the update.
    const Tensor& prediction = model.forward(xb, Mode::Train);
    losses.values.push_back(model.loss().forward(prediction, yb));
    model.zero_grad();
    model.backward(model.loss().backward());
    for (std::size_t i = 0; all && i < model.num_layers(); ++i)
      for (const Variable& v : model.layer_variables(i))
        if (model.layer(i).trainable() && v.trainable())
          put(a, prefix + "first_step_grads[" + str(i) + "]." + v.name, *v.grad, v.vector);
    model.optimizer().apply(model.trainable_variables());
    // The optimizer clips the gradients in place: these are the ones it applied.
    for (std::size_t i = 0; all && i < model.num_layers(); ++i)
      for (const Variable& v : model.layer_variables(i))
        if (model.layer(i).trainable() && v.trainable())
          put(a, prefix + "first_step_applied_grads[" + str(i) + "]." + v.name, *v.grad, v.vector);
  }
  if (all) {
    put(a, prefix + "per_step_loss", losses);
    for (std::size_t i = 0; i < model.num_layers(); ++i)
      for (const Variable& v : model.layer_variables(i))
        put(a, prefix + "final_weights[" + str(i) + "]." + v.name, *v.value, v.vector);
  }
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    const std::string at = prefix + "final_moving_stats." + label + "[" + str(i) + "]";
    bool moving = false;
    for (const Variable& v : model.layer_variables(i))
      if (v.name == "moving_mean" || v.name == "moving_variance") {
        put(a, at + "." + v.name, *v.value, v.vector);
        moving = true;
      }
    if (!moving) put_none(a, at, model.layer(i).where() + " keeps no moving statistics");
  }
  put(a, prefix + "predictions_inference." + label, model.predict(t.eval_x), false);
}

// One run per convention; training itself does not depend on it, so the losses, gradients and
// weights come from the first (Keras') run.
void run_trajectory(const Trajectory& t, const json& optimizer, const std::string& prefix,
                    Actuals& a) {
  for (const auto& [label, variance_update] : kConventions) {
    if (label == kConventions.front().first) {
      train(t, optimizer, label, variance_update, true, prefix, a);
      continue;
    }
    try {
      train(t, optimizer, label, variance_update, false, prefix, a);
    } catch (const Error& e) {  // e.g. PyTorch's estimator with a batch of one row
      put_none(a, prefix + "final_moving_stats." + label, e.what());
      put_none(a, prefix + "predictions_inference." + label, e.what());
    }
  }
}

// alternative_adam_epsilon_placement: the same run with Adam's other epsilon placement, given for
// information; compared whenever it repeats quantities of the trajectory.
void run_alternative(const Trajectory& t, const json& alternative, Actuals& a) {
  const std::string prefix = std::string(kAlternative) + ".";
  if (std::none_of(kTrajectoryQuantities.begin(), kTrajectoryQuantities.end(),
                   [&](const std::string& k) { return alternative.contains(k); }))
    return;
  if (t.optimizer["class_name"] != "Adam") {
    for (const auto& k : kTrajectoryQuantities)
      put_none(a, prefix + k, "the optimizer is not Adam: there is no other epsilon placement");
    return;
  }
  json optimizer = t.optimizer;
  const bool keras = optimizer["config"].value("epsilon_placement", "keras") == "keras";
  optimizer["config"]["epsilon_placement"] = keras ? "pytorch" : "keras";
  run_trajectory(t, optimizer, prefix, a);
}

// first_step_grads, final_weights and final_moving_stats.<label> hold one entry per layer.
void check_layer_lists(const json& expected, std::size_t layers, const std::string& prefix,
                       Verifier& verifier) {
  std::vector<std::pair<std::string, const json*>> lists;
  for (const char* key : {"first_step_grads", "first_step_applied_grads", "final_weights"})
    if (expected.contains(key)) lists.emplace_back(key, &expected[key]);
  if (expected.contains("final_moving_stats") && expected["final_moving_stats"].is_object())
    for (const auto& [label, list] : expected["final_moving_stats"].items())
      lists.emplace_back("final_moving_stats." + label, &list);
  for (const auto& [key, list] : lists)
    if (list->is_array() && list->size() != layers)
      verifier.record(
          prefix + key, false,
          "expected one entry per layer (" + str(layers) + "), got " + str(list->size()));
}

}  // namespace

bool CaseResult::ok() const {
  return !quantities.empty() &&
         std::all_of(quantities.begin(), quantities.end(), [](const auto& q) { return q.ok; });
}

std::vector<std::string> CaseResult::failed() const {
  std::vector<std::string> names;
  for (const auto& q : quantities)
    if (!q.ok) names.push_back(q.quantity);
  return names;
}

CaseResult run_case(const json& c, const std::string& source) {
  CaseResult result;
  result.source = source;
  result.id = c.is_object() && c.contains("id") && c["id"].is_string()
                  ? c["id"].get<std::string>()
                  : fs::path(source).stem().string();
  try {
    check(c.is_object(), "expected a case object {...}, got " + describe_json(c));
    ConfigReader top(c, "");
    if (!top.has("schema_version")) top.fail("schema_version", "1 or 2");
    top.integer("schema_version", 1, 1, 2);
    if (top.string("id", "").empty()) top.fail("id", "the case's name");
    const std::string kind = top.string(
        "kind", "",
        {"bn_single_layer", "dense_single_layer", "layer_single", "training_trajectory"});
    if (kind.empty())
      top.fail("kind", "bn_single_layer, dense_single_layer, layer_single or training_trajectory");
    top.ignore(kInformational);
    for (const auto& [key, value] : c.items())
      if (informational_alternative(key)) top.ignore({key});
    const json& expected = top.raw("expected");
    check(expected.is_object(),
          "expected: expected an object of quantities, got " + describe_json(expected));
    Verifier verifier(top.raw("tolerance"), result);
    Actuals actual;
    json alternative;
    if (kind == "training_trajectory") {
      const Trajectory t = read_trajectory(top);
      alternative = top.raw(kAlternative);
      top.finish();
      check_layer_lists(expected, t.layers.size(), "", verifier);
      run_trajectory(t, t.optimizer, "", actual);
      if (alternative.is_object()) {
        check_layer_lists(alternative, t.layers.size(), std::string(kAlternative) + ".", verifier);
        run_alternative(t, alternative, actual);
      }
    } else if (kind == "layer_single") {
      const SingleLayerCase s = read_single_layer(top, kind, "LayerNormalization");
      top.finish();
      actual = run_layer_normalization(s);
    } else {
      const bool bn = kind == "bn_single_layer";
      const SingleLayerCase s = read_single_layer(top, kind, bn ? "BatchNormalization" : "Dense");
      top.finish();
      actual = bn ? run_batch_normalization(s) : run_dense(s);
    }
    verifier.walk(expected, "", actual);
    if (alternative.is_object())
      for (const auto& key : kTrajectoryQuantities)
        if (alternative.contains(key))
          verifier.walk(alternative[key], std::string(kAlternative) + "." + key, actual,
                        std::string(kAlternative) + ".");
    verifier.finish();
  } catch (const std::exception& e) {
    result.quantities.push_back({"(case)", false, std::string("cannot run: ") + e.what()});
  }
  return result;
}

std::vector<CaseFile> case_files(const fs::path& dir) {
  check(fs::is_directory(dir), "reference directory " + dir.string() + ": not found");
  std::vector<CaseFile> files;
  const fs::path index = dir / "index.json";
  if (fs::exists(index)) {
    const json j = read_json(index);
    ConfigReader r(j, index.string());
    r.integer("schema_version", 1, 1, 2);
    const json& cases = r.raw("cases");
    check(cases.is_array(), r.path_of("cases") + ": expected a list, got " + describe_json(cases));
    for (std::size_t i = 0; i < cases.size(); ++i) {
      ConfigReader e(cases[i], r.path_of("cases") + "[" + str(i) + "]");
      const std::string file = e.string("file", "");
      if (file.empty()) e.fail("file", "the case's file name");
      files.push_back({dir / file, e.string("id", "")});
      e.ignore({"kind", "description"});
      e.finish();
    }
    r.finish();
  } else {
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".json" && entry.path().filename() != "index.json")
        files.push_back({entry.path(), ""});
    std::sort(files.begin(), files.end(),
              [](const CaseFile& a, const CaseFile& b) { return a.path < b.path; });
  }
  check(!files.empty(), "reference directory " + dir.string() + ": no cases (" +
                            (fs::exists(index) ? "index.json lists none" : "no *.json files") +
                            ")");
  return files;
}

std::vector<CaseResult> run_directory(const fs::path& dir) {
  std::vector<CaseFile> files;
  try {
    files = case_files(dir);
  } catch (const std::exception& e) {
    return {CaseResult{dir.string(), dir.string(), {{"(case)", false, e.what()}}}};
  }
  std::vector<CaseResult> results;
  for (const auto& file : files) {
    CaseResult r;
    try {
      r = run_case(read_json(file.path), file.path.string());
    } catch (const std::exception& e) {
      r = {file.path.stem().string(), file.path.string(), {{"(case)", false, e.what()}}};
    }
    if (!file.id.empty() && r.id != file.id)
      r.quantities.push_back(
          {"(case)", false,
           "index.json lists this file as '" + file.id + "', but its id is '" + r.id + "'"});
    results.push_back(std::move(r));
  }
  return results;
}

std::string report_line(const CaseResult& c, const QuantityResult& q) {
  std::ostringstream out;
  out << std::left << std::setw(32) << c.id << ' ' << std::setw(54) << q.quantity << ' ' << q.detail
      << "  " << (q.ok ? "ok" : "FAILED");
  return out.str();
}

}  // namespace normlab::reference
