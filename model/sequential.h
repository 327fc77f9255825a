/// @file
/// @verbatim
/// Sequential: a stack of layers, Keras' Sequential model.
///
///   Sequential model(10);                                  // inputs of width 10
///   model.add(Dense(64));
///   model.add(BatchNormalization({.momentum = 0.95f}));
///   model.add(Activation("relu"));
///   model.add(Dense(1, "sigmoid"));
///   model.compile(Adam(), "binary_crossentropy", {"accuracy"});
///   History h = model.fit(x, y, {.batch_size = 32, .epochs = 10});
///   Tensor p = model.predict(x);                          // always inference mode
///
/// Or a custom loop, each step written out:
///   const Tensor& y = model.forward(x, true);  float l = loss.forward(y, t);
///   model.zero_grad();  model.backward(loss.backward());
///   optimizer.apply(model.trainable_variables());
/// @endverbatim
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/layer.h"
#include "data/dataset.h"
#include "model/callbacks.h"
#include "model/data_parallel.h"
#include "model/losses.h"
#include "model/metrics.h"
#include "optim/optimizer.h"

namespace normlab {

/// A layer of a model with its position: layers_of_kind() lists them.
template <class L>
struct LayerAt {
  std::size_t index;  ///< its position in the model
  L* layer;           ///< the layer, owned by the model
};

/// The arguments of Keras' fit() beside x and y.
struct FitOptions {
  /// Rows per step; the last batch of an epoch may be smaller.
  std::size_t batch_size = 32;
  /// Passes over the data.
  int epochs = 1;
  /// A new row order every epoch.
  bool shuffle = true;
  std::uint64_t seed = 0;  ///< the shuffling stream
  int verbose = 1;         ///< 0 silent, 1 progress bar, 2 one line per epoch (as Keras)
  /// Evaluated after every epoch (val_* logs).
  std::optional<Dataset> validation_data;
  double validation_split = 0.0;     ///< the last fraction of the rows, before shuffling
  std::vector<float> sample_weight;  ///< one weight per row, or empty
  std::vector<std::pair<std::size_t, float>> class_weight;  ///< (class index, weight)
  std::size_t steps_per_epoch = 0;                          ///< 0: every batch of the data
  /// Listeners, called in this order; not owned.
  std::vector<Callback*> callbacks;
  /// Continue from this position (a checkpoint's, io/checkpoint.h) instead of the start: the
  /// model, its optimizer and its Rng restored first, the same data and options given again.
  /// The resumed fit then ends exactly where an uninterrupted one would.
  std::optional<FitState> resume_from;
};

/// A stack of layers, Keras' Sequential model: fit, evaluate, predict, or a custom loop.
class Sequential {
 public:
  /// input_dim: the width of each input row; seed: the stream that initializes the weights.
  explicit Sequential(std::size_t input_dim = 0, std::uint64_t seed = 0);
  ///@{
  /// Models move (a model owns its layers, optimizer and buffers); they are not copied.
  Sequential(Sequential&&) = default;
  Sequential& operator=(Sequential&&) = default;
  ///@}

  /// Builds the layer for the current output width and appends it; returns it.
  Layer& add(std::unique_ptr<Layer> layer);
  template <std::derived_from<Layer> L>
  /// add(Dense(64)): the layer moved into the model; returns it.
  L& add(L layer) {
    return static_cast<L&>(add(std::make_unique<L>(std::move(layer))));
  }

  /// Sets the optimizer, the loss and the metrics ("accuracy", ...).
  void compile(std::unique_ptr<Optimizer> optimizer, std::unique_ptr<Loss> loss,
               const std::vector<std::string>& metrics = {});
  template <std::derived_from<Optimizer> O>
  /// compile(Adam(), "mse", {"accuracy"}): a loss by Keras name.
  void compile(O optimizer, const std::string& loss, const std::vector<std::string>& metrics = {}) {
    compile(std::make_unique<O>(std::move(optimizer)), make_loss(loss), metrics);
  }

  /// Trains on x (N x D) and y (N x K) as Keras' fit; returns the per-epoch logs.
  History fit(const Tensor& x, const Tensor& y, FitOptions options = {});
  /// The same on a dataset, its sample weights included.
  History fit(const Dataset& data, FitOptions options = {});
  /// Loss and metrics in inference mode, weighted by batch size as Keras reports them.
  Logs evaluate(const Tensor& x, const Tensor& y, std::size_t batch_size = 32);
  /// Inference mode, any number of rows.
  Tensor predict(const Tensor& x, std::size_t batch_size = 32);
  /// One optimizer step on (x, y); returns the batch loss (training forward, weights before the
  /// step). metrics() then hold the metrics of that batch.
  float train_on_batch(const Tensor& x, const Tensor& y, const float* sample_weight = nullptr);

  /// The custom-loop pieces. Every layer gets the step context of `mode`, these rows'
  /// weights (empty: every row weighs 1), the model's communicator and its Rng.
  const Tensor& forward(const Tensor& x, Mode mode, std::span<const float> sample_weight = {});
  /// forward(x, true) trains, forward(x, false) infers, as Keras' model(x, training).
  const Tensor& forward(const Tensor& x, bool training) {
    return forward(x, training ? Mode::Train : Mode::Infer);
  }
  /// dy: dL/dy of the last training forward; fills every gradient, layers last to first.
  const Tensor& backward(const Tensor& dy);
  /// Sets every gradient to 0.
  void zero_grad();
  /// Trainable variables of trainable layers, in layer order; the same object between changes
  /// of any layer's trainable flag.
  const std::vector<Variable>& trainable_variables();
  /// Every variable of layer i (trainable and not), in Keras' order.
  const std::vector<Variable>& layer_variables(std::size_t i) const { return variables_.at(i); }

  /// Keras-style table: layer (type), output shape, params; total, trainable, non-trainable.
  std::string summary() const;
  /// The layer named `name`; throws, listing the names, when none is.
  Layer& get_layer(const std::string& name);
  /// get_layer<BatchNormalization>("bn"): the layer named `name` as an L; throws, naming its
  /// class, when it is another kind of layer.
  template <std::derived_from<Layer> L>
  L& get_layer(const std::string& name) {
    Layer& layer = get_layer(name);
    if (auto* typed = dynamic_cast<L*>(&layer)) return *typed;
    throw Error("Sequential::get_layer: " + layer.where() +
                " is not of the class asked for; ask for a " + layer.class_name());
  }
  /// Every layer of kind L, in layer order, with its index: layers_of_kind<BatchNormalization>().
  template <std::derived_from<Layer> L>
  std::vector<LayerAt<L>> layers_of_kind() {
    std::vector<LayerAt<L>> found;
    for (std::size_t i = 0; i < layers_.size(); ++i)
      if (auto* typed = dynamic_cast<L*>(layers_[i].get())) found.push_back({i, typed});
    return found;
  }
  ///@{
  /// Layer i, in order of add(); num_layers() of them.
  Layer& layer(std::size_t i) { return *layers_.at(i); }
  const Layer& layer(std::size_t i) const { return *layers_.at(i); }
  std::size_t num_layers() const { return layers_.size(); }
  ///@}
  /// The width of the inputs.
  std::size_t input_dim() const { return input_dim_; }
  /// The width of the last layer's output.
  std::size_t output_dim() const;
  /// Parameters the optimizer updates (trainable) or not.
  std::size_t count_params(bool trainable) const;
  /// Parameters of layer i that the optimizer updates (trainable) or not.
  std::size_t layer_params(std::size_t i, bool trainable) const;

  /// compile() has run.
  bool compiled() const { return optimizer_ != nullptr; }
  ///@{
  /// What compile() set; optimizer() and loss() throw before compile().
  Optimizer& optimizer();
  Loss& loss();
  std::vector<Metric>& metrics() { return metrics_; }
  ///@}
  /// The stream that initializes weights.
  Rng& rng() { return rng_; }
  /// Trains data-parallel over these processes (docs/distributed.md, model/data_parallel.h):
  /// fit() gives each its shard of every batch (batch_size stays the global batch) and sums
  /// gradients over them; synchronized BatchNormalization layers reduce their statistics
  /// across them. Every process must build the model from the same seed. It must outlive fit.
  void set_communicator(Communicator& communicator);
  /// The processes set by set_communicator (local_communicator() by default).
  Communicator& communicator() const { return parallel_.communicator(); }
  /// Where the running fit stands (between two steps, e.g. in a callback), for a checkpoint;
  /// throws when no fit is running.
  FitState fit_state() const;
  bool stop_training = false;  ///< a callback sets it to end fit after the current step

 private:
  // forward (training), loss, metrics update, backward, optimizer step; returns the loss.
  // x is this process's shard of a batch of global_rows rows (data_parallel.h).
  float train_step(const Tensor& x, const Tensor& y, const float* sample_weight,
                   double global_rows);
  void check_compiled(const char* what) const;
  void check_data(const Tensor& x, const Tensor* y, const std::string& what) const;
  Logs epoch_logs(double loss_sum, double rows, const std::string& prefix) const;
  // A resume_from position that fits this model and these fit options, or an Error.
  void check_resumable(const FitState& s, int epochs, std::size_t batches) const;

  std::size_t input_dim_;
  Rng rng_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::vector<Variable>> variables_;  // per layer, cached at add()
  std::vector<Variable> trainable_;
  std::vector<bool> trainable_flags_;  // the flags trainable_ was built for
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<Loss> loss_;
  std::vector<Metric> metrics_;
  Tensor predict_buffer_;
  DataParallel parallel_;
  // The running fit's position and batcher, for fit_state(); null outside fit.
  const FitState* fit_position_ = nullptr;
  const Batcher* fit_batcher_ = nullptr;
};

}  // namespace normlab
