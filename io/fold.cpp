#include "io/fold.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/config_reader.h"
#include "core/error.h"
#include "io/model_file.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "layers/registry.h"
#include "optim/registry.h"

namespace normlab {

using nlohmann::json;

namespace {

// The float32 bit patterns of `t`, 8 hex digits per value.
std::string to_hex(const Tensor& t) {
  std::string text(t.size() * 8, '0');
  char word[9];
  for (std::size_t i = 0; i < t.size(); ++i) {
    const float value = t[i];
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    std::snprintf(word, sizeof word, "%08x", static_cast<unsigned>(bits));
    std::memcpy(&text[i * 8], word, 8);
  }
  return text;
}

// Fills `t` (already of its shape) from to_hex's text.
void from_hex(const json& value, Tensor& t, const std::string& where) {
  const bool ok = value.is_string() && value.get_ref<const std::string&>().size() == t.size() * 8;
  check(ok, where + ": expected " + std::to_string(t.size()) +
                " float32 values as 8 hex digits each, got " + describe_json(value));
  const std::string& text = value.get_ref<const std::string&>();
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::uint32_t bits = 0;
    for (std::size_t k = 0; k < 8; ++k) {
      const char c = text[i * 8 + k];
      const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      check(digit >= 0, where + ": '" + std::string(1, c) + "' at character " +
                            std::to_string(i * 8 + k) + " is not a hex digit (0-9, a-f)");
      bits = bits << 4 | static_cast<std::uint32_t>(digit);
    }
    std::memcpy(&t[i], &bits, sizeof bits);
  }
}

json weights_hex(Sequential& model, std::size_t i) {
  json out = json::object();
  for (const Variable& v : model.layer_variables(i)) out[v.name] = to_hex(*v.value);
  return out;
}

// A fresh copy of a layer from its config; weights are copied by the caller.
std::unique_ptr<Layer> layer_from_json(const json& value, const std::string& where) {
  const bool ok = value.is_object() && value.contains("class_name") &&
                  value["class_name"].is_string() && value.contains("config");
  check(ok,
        where + ": expected {\"class_name\": ..., \"config\": {...}}, got " + describe_json(value));
  return layer_from_config(value["class_name"].get<std::string>(), value["config"],
                           where + ".config");
}

// Adds a copy of `model`'s layer i, weights included, to `into`.
void add_copy(Sequential& into, Sequential& model, std::size_t i) {
  Layer& copy = into.add(layer_from_json(layer_to_json(model.layer(i)), "layer"));
  const auto& from = model.layer_variables(i);
  const auto& to = into.layer_variables(into.num_layers() - 1);
  for (std::size_t k = 0; k < from.size(); ++k) *to[k].value = *from[k].value;
  copy.set_trainable(model.layer(i).trainable());
}

// Compiles `into` as `from` is compiled: same loss, metrics and optimizer configuration.
void compile_like(Sequential& into, Sequential& from) {
  if (!from.compiled()) return;
  std::vector<std::string> metrics;
  for (const auto& m : from.metrics()) metrics.push_back(m.name());
  into.compile(optimizer_from_json(optimizer_to_json(from.optimizer()), "optimizer"),
               make_loss(from.loss().name(), from.loss().from_logits(), from.loss().clip_epsilon()),
               metrics);
}

bool foldable_pair(Sequential& model, std::size_t i) {
  if (i + 1 >= model.num_layers()) return false;
  const auto* dense = dynamic_cast<const Dense*>(&model.layer(i));
  return dense != nullptr && dense->config().activation == "linear" &&
         dynamic_cast<const BatchNormalization*>(&model.layer(i + 1)) != nullptr;
}

void check_finite(Sequential& model, std::size_t i) {
  for (const Variable& v : model.layer_variables(i))
    for (const float value : *v.value)
      check(std::isfinite(value), model.layer(i).where() + ": " + v.name +
                                      " holds a non-finite value; such a model cannot be folded");
}

}  // namespace

FoldedModel fold_batchnorm(Sequential& model) {
  FoldedModel out{Sequential(model.input_dim()), {{"pairs", json::array()}}};
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    if (!foldable_pair(model, i)) {
      add_copy(out.model, model, i);
      continue;
    }
    const auto& dense = dynamic_cast<const Dense&>(model.layer(i));
    const auto& bn = dynamic_cast<const BatchNormalization&>(model.layer(i + 1));
    check_finite(model, i);
    check_finite(model, i + 1);
    out.record["pairs"].push_back({{"index", out.model.num_layers()},
                                   {"dense", layer_to_json(dense)},
                                   {"dense_weights", weights_hex(model, i)},
                                   {"batch_normalization", layer_to_json(bn)},
                                   {"batch_normalization_weights", weights_hex(model, i + 1)}});
    DenseConfig config = dense.config();
    config.use_bias = true;
    config.name = dense.name();
    auto& folded = out.model.add(Dense(config));
    folded.set_trainable(dense.trainable());
    const BatchNormConfig& c = bn.config();
    for (std::size_t j = 0; j < dense.output_dim(); ++j) {
      // s_j = gamma_j / sqrt(var_j + eps), in double.
      const double gamma = c.scale ? bn.gamma[j] : 1.0, beta = c.center ? bn.beta[j] : 0.0;
      const double s =
          gamma / std::sqrt(static_cast<double>(bn.moving_variance[j]) + double{c.epsilon});
      for (std::size_t k = 0; k < dense.input_dim(); ++k)
        folded.kernel(k, j) = static_cast<float>(dense.kernel(k, j) * s);
      const double b = dense.config().use_bias ? dense.bias[j] : 0.0;
      folded.bias[j] = static_cast<float>((b - bn.moving_mean[j]) * s + beta);
    }
    ++i;  // the BatchNormalization is folded in
  }
  check(!out.record["pairs"].empty(),
        "the model has no Dense layer (linear activation) directly followed by a "
        "BatchNormalization layer, so there is nothing to fold");
  compile_like(out.model, model);
  return out;
}

namespace {

// Checks that pairs[k].index names, in increasing order, a Dense of `folded` with the name the
// recorded original Dense has.
void check_pair_indices(Sequential& folded, const json& pairs, const std::string& where) {
  std::size_t next = 0;  // the smallest index the next pair may have
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const std::string at = where + ".pairs[" + std::to_string(k) + "]";
    const json& pair = pairs[k];
    const json index = pair.is_object() ? pair.value("index", json()) : json();
    const bool has_config = pair.is_object() && pair.contains("dense") &&
                            pair["dense"].is_object() && pair["dense"].contains("config") &&
                            pair["dense"]["config"].is_object();
    const json name = has_config ? pair["dense"]["config"].value("name", json()) : json();
    const bool ok = index.is_number_unsigned() && index.get<std::size_t>() >= next &&
                    index.get<std::size_t>() < folded.num_layers() &&
                    folded.layer(index.get<std::size_t>()).class_name() == "Dense" &&
                    name == json(folded.layer(index.get<std::size_t>()).name());
    check(ok, at + ": its index " + describe_json(index) +
                  " does not name, in order, the folded Dense layer " + describe_json(name) +
                  " of the model");
    next = index.get<std::size_t>() + 1;
  }
}

}  // namespace

Sequential unfold_batchnorm(Sequential& folded, const json& record, const std::string& where) {
  const bool ok = record.is_object() && record.contains("pairs") && record["pairs"].is_array();
  check(ok, where + ": expected {\"pairs\": [...]}, got " + describe_json(record));
  const json& pairs = record["pairs"];
  check_pair_indices(folded, pairs, where);
  Sequential model(folded.input_dim());
  std::size_t next = 0;  // the next record
  for (std::size_t i = 0; i < folded.num_layers(); ++i) {
    if (next == pairs.size() || pairs[next]["index"].get<std::size_t>() != i) {
      add_copy(model, folded, i);
      continue;
    }
    const std::string at = where + ".pairs[" + std::to_string(next) + "]";
    const json& pair = pairs[next++];
    for (const auto& [layer, weights] :
         {std::pair{"dense", "dense_weights"},
          std::pair{"batch_normalization", "batch_normalization_weights"}}) {
      Layer& added = model.add(layer_from_json(pair.value(layer, json()), at + "." + layer));
      const json& values = pair.value(weights, json());
      const auto& variables = model.layer_variables(model.num_layers() - 1);
      check(values.is_object() && values.size() == variables.size(),
            at + "." + weights + ": expected an object of the " + std::to_string(variables.size()) +
                " weights of " + added.where() + ", got " + describe_json(values));
      for (const Variable& v : variables) {
        check(values.contains(v.name), at + "." + weights + ": " + added.where() + " needs \"" +
                                           v.name + "\", which is missing");
        from_hex(values[v.name], *v.value, at + "." + weights + "." + v.name);
      }
    }
  }
  compile_like(model, folded);
  return model;
}

void fold_saved_model(const std::filesystem::path& in, const std::filesystem::path& out) {
  Sequential model = load_model(in);
  ModelInfo info = read_model_info(in);
  check(info.folded.is_null(), (in / "model.json").string() +
                                   ": the model is already folded (userDefinedMetadata.normlab."
                                   "folded is present); unfold it first");
  FoldedModel folded = fold_batchnorm(model);
  json metadata = info.metadata;
  metadata["normlab"] = {{"folded", std::move(folded.record)}};
  save_model(folded.model, out, metadata);
}

void unfold_saved_model(const std::filesystem::path& in, const std::filesystem::path& out) {
  Sequential folded = load_model(in);
  const ModelInfo info = read_model_info(in);
  const std::string where = (in / "model.json").string() + ": userDefinedMetadata.normlab.folded";
  check(!info.folded.is_null(), where +
                                    " is missing: the model was not written by "
                                    "`normlab export --fold-bn`, so there is nothing to "
                                    "unfold");
  Sequential model = unfold_batchnorm(folded, info.folded, where);
  save_model(model, out, info.metadata);
}

}  // namespace normlab
