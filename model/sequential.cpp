#include "model/sequential.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "core/error.h"
#include "core/text.h"

namespace normlab {

Sequential::Sequential(std::size_t input_dim, std::uint64_t seed)
    : input_dim_(input_dim), rng_(seed) {}

Layer& Sequential::add(std::unique_ptr<Layer> layer) {
  check(layer != nullptr, "Sequential::add: got a null layer");
  check(input_dim_ > 0,
        "Sequential::add: the model has no input width; construct it as "
        "Sequential(input_dim)");
  if (layer->name().empty()) {
    const std::string base = snake_case(layer->class_name());
    std::string name = base;
    for (int k = 1; [&] {
           for (const auto& l : layers_)
             if (l->name() == name) return true;
           return false;
         }();
         ++k)
      name = base + "_" + std::to_string(k);
    layer->set_name(name);
  } else {
    for (const auto& l : layers_)
      check(l->name() != layer->name(),
            "Sequential::add: a layer named '" + layer->name() + "' is already in the model");
  }
  layer->build(output_dim(), rng_);
  layer->set_input_grad_needed(!layers_.empty());
  variables_.push_back(layer->variables());
  layers_.push_back(std::move(layer));
  return *layers_.back();
}

std::size_t Sequential::output_dim() const {
  return layers_.empty() ? input_dim_ : layers_.back()->output_dim();
}

void Sequential::compile(std::unique_ptr<Optimizer> optimizer, std::unique_ptr<Loss> loss,
                         const std::vector<std::string>& metrics) {
  check(optimizer && loss, "Sequential::compile: needs an optimizer and a loss");
  optimizer_ = std::move(optimizer);
  loss_ = std::move(loss);
  metrics_.clear();
  for (const auto& name : metrics) metrics_.push_back(make_metric(name, *loss_));
}

Optimizer& Sequential::optimizer() {
  check_compiled("optimizer()");
  return *optimizer_;
}

Loss& Sequential::loss() {
  check_compiled("loss()");
  return *loss_;
}

void Sequential::check_compiled(const char* what) const {
  if (!optimizer_ || !loss_)
    throw Error(std::string("Sequential::") + what +
                ": the model is not compiled; call compile(optimizer, loss) first");
}

const Tensor& Sequential::forward(const Tensor& x, Mode mode,
                                  std::span<const float> sample_weight) {
  check(!layers_.empty(), "Sequential::forward: the model has no layers");
  // Runs every step: the message is built only when the check fails (no allocation).
  if (x.cols() != input_dim_ || x.rows() == 0)
    throw Error("Sequential: expected input of shape (N, " + std::to_string(input_dim_) +
                ") with N >= 1, got " + x.shape_string());
  const StepContext ctx{.mode = mode,
                        .sample_weight = sample_weight,
                        .communicator = &parallel_.communicator(),
                        .rng = &rng_};
  const Tensor* h = &x;
  for (auto& layer : layers_) h = &layer->forward(*h, ctx);
  return *h;
}

const Tensor& Sequential::backward(const Tensor& dy) {
  const Tensor* g = &dy;
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) g = &(*it)->backward(*g);
  return *g;
}

void Sequential::set_communicator(Communicator& communicator) {
  parallel_.set_communicator(communicator);
}

void Sequential::zero_grad() {
  for (auto& vars : variables_)
    for (auto& v : vars)
      if (v.grad) v.grad->fill(0.0f);
}

const std::vector<Variable>& Sequential::trainable_variables() {
  bool same = trainable_flags_.size() == layers_.size();
  for (std::size_t i = 0; same && i < layers_.size(); ++i)
    same = trainable_flags_[i] == layers_[i]->trainable();
  if (!same) {
    trainable_.clear();
    trainable_flags_.clear();
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      trainable_flags_.push_back(layers_[i]->trainable());
      if (!layers_[i]->trainable()) continue;
      for (const auto& v : variables_[i])
        if (v.trainable()) trainable_.push_back(v);
    }
  }
  return trainable_;
}

std::size_t Sequential::layer_params(std::size_t i, bool trainable) const {
  return layers_[i]->count_params(trainable);
}

std::size_t Sequential::count_params(bool trainable) const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) n += layer_params(i, trainable);
  return n;
}

Layer& Sequential::get_layer(const std::string& name) {
  for (auto& layer : layers_)
    if (layer->name() == name) return *layer;
  std::string names;
  for (const auto& layer : layers_) names += (names.empty() ? "" : ", ") + layer->name();
  throw Error("Sequential::get_layer: no layer named '" + name + "'; the layers are: " + names);
}

std::string Sequential::summary() const {
  // Column widths fit the longest entry, so long layer names are never cut.
  std::size_t name_width = 28;
  for (const auto& layer : layers_)
    name_width = std::max(name_width, layer->name().size() + layer->class_name().size() + 5);
  const std::size_t width = name_width + 26 + 12;
  const std::string rule(width, '_'), double_rule(width, '=');
  std::ostringstream out;
  out << "Model: \"sequential\"\n" << rule << "\n";
  out << std::left << " " << std::setw(static_cast<int>(name_width)) << "Layer (type)"
      << std::setw(26) << "Output Shape"
      << "Param #\n"
      << double_rule << "\n";
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = *layers_[i];
    out << " " << std::setw(static_cast<int>(name_width))
        << (layer.name() + " (" + layer.class_name() + ")") << std::setw(26)
        << ("(None, " + std::to_string(layer.output_dim()) + ")")
        << layer_params(i, true) + layer_params(i, false) << "\n"
        << (i + 1 < layers_.size() ? "\n" : "");
  }
  out << double_rule << "\n"
      << "Total params: " << count_params(true) + count_params(false) << "\n"
      << "Trainable params: " << count_params(true) << "\n"
      << "Non-trainable params: " << count_params(false) << "\n"
      << rule << "\n";
  return out.str();
}

}  // namespace normlab
