// Example 1: BatchNormalization's moving statistics after training, and how far they still are
// from the statistics they estimate.
//
// It follows this Keras program:
//   model = tf.keras.Sequential([
//       tf.keras.layers.Dense(64, input_shape=(10,)),
//       tf.keras.layers.BatchNormalization(momentum=0.99, name='bn_layer'),
//       tf.keras.layers.Activation('relu')])
//   model.compile(optimizer='adam', loss='mse')
//   # ... training ...
//   bn_layer = model.get_layer('bn_layer')
//   print("Moving Mean:", bn_layer.moving_mean.numpy())
//   print("Moving Variance:", bn_layer.moving_variance.numpy())
//
// fit() runs every batch in training mode, so each step moves the averages
//   moving = moving * momentum + batch_statistic * (1 - momentum)
// and they can be read right after it, as below. Beyond the original, a callback measures how
// far they are from the population statistics they estimate: the mean and variance of the
// layer's input (the Dense outputs) over the whole training set, with the weights of the
// moment. The gap closes in three stages:
//   - the start value of the moving variance (1, where the layer's input has a variance near
//     0.3) fades as momentum^t: 0.99^32 = 0.72 after the first epoch of 32 steps, 0.04 after
//     ten epochs (the moving mean starts at 0, already close: zero-mean inputs, zero bias);
//   - while the loss falls fast, the weights change and the averages trail them by about
//     1 / (1 - momentum) = 100 steps;
//   - what stays is noise (each batch mean is off by about sigma / sqrt(B), and the average
//     keeps sqrt((1 - m) / (1 + m)) = 7 % of that) and, by design, a variance ratio near
//     (B - 1) / B = 0.97: the moving variance averages biased batch variances (divided by B,
//     as Keras does), whose expectation is (B - 1) / B of the population variance.
//
// The same run from a config: normlab train configs/example_basic.json
#include <cmath>
#include <cstdio>

#include "apps/report.h"
#include "normlab.h"

using namespace normlab;

namespace {

// Mean and biased variance (1/N) of every column of z, computed in double in two passes.
void column_moments(const Tensor& z, std::vector<double>& mean, std::vector<double>& variance) {
  const double n = static_cast<double>(z.rows());
  mean.assign(z.cols(), 0.0);
  variance.assign(z.cols(), 0.0);
  for (std::size_t i = 0; i < z.rows(); ++i)
    for (std::size_t j = 0; j < z.cols(); ++j) mean[j] += z(i, j) / n;
  for (std::size_t i = 0; i < z.rows(); ++i)
    for (std::size_t j = 0; j < z.cols(); ++j) variance[j] += std::pow(z(i, j) - mean[j], 2) / n;
}

// After epochs 1-5, 10, 15, ..., compares the BatchNormalization layer's moving statistics with the
// population statistics of its input:
//   mean gap      max_j |moving_mean_j - mean_j| / sqrt(variance_j)   (in standard deviations)
//   variance gap  max_j |moving_variance_j / variance_j - 1|
//   ratio         the average over channels of moving_variance_j / variance_j
class PopulationGap final : public Callback {
 public:
  PopulationGap(const Tensor& x, const BatchNormalization& bn) : x_(x), bn_(bn) {}

  void on_train_begin(Sequential&, int) override {
    std::printf("%6s %6s %9s %10s %13s %8s\n", "epoch", "steps", "loss", "mean gap", "variance gap",
                "ratio");
  }

  void on_epoch_end(Sequential& model, int epoch, const Logs& logs) override {
    if (epoch >= 5 && (epoch + 1) % 5 != 0) return;  // epochs 1 to 5, then every fifth
    // The input of the BatchNormalization layer is the output of the Dense layer before it;
    // inference mode changes nothing, so training goes on exactly as without this callback.
    column_moments(model.layer(0).forward(x_, {Mode::Infer}), mean_, variance_);
    double mean_gap = 0.0, variance_gap = 0.0, ratio_sum = 0.0;
    for (std::size_t j = 0; j < mean_.size(); ++j) {
      const double ratio = bn_.moving_variance[j] / variance_[j];
      mean_gap =
          std::max(mean_gap, std::abs(bn_.moving_mean[j] - mean_[j]) / std::sqrt(variance_[j]));
      variance_gap = std::max(variance_gap, std::abs(ratio - 1.0));
      ratio_sum += ratio;
    }
    std::printf("%6d %6lld %9.4f %10.4f %13.4f %8.4f\n", epoch + 1,
                static_cast<long long>(model.optimizer().iterations()),
                static_cast<double>(log_value(logs, "loss")), mean_gap, variance_gap,
                ratio_sum / static_cast<double>(mean_.size()));
  }

 private:
  const Tensor& x_;
  const BatchNormalization& bn_;
  std::vector<double> mean_, variance_;
};

}  // namespace

int main() {
  set_num_threads(1);  // one thread: the same numbers on every run

  // 1000 rows of 10 features, 64 targets y = relu(x A + noise) (data/generators.h).
  const Dataset data = make_regression(1000, /*seed=*/1);

  Sequential model(/*input_dim=*/10, /*seed=*/0);
  model.add(Dense(64));
  auto& bn = model.add(BatchNormalization({.momentum = 0.99f, .name = "bn_layer"}));
  model.add(Activation("relu"));
  model.compile(Adam(), "mse");
  std::printf("%s\n", model.summary().c_str());

  std::printf(
      "Training 40 epochs of 32 steps, comparing the moving statistics with the population\n"
      "statistics of the layer's input over the training set:\n");
  PopulationGap gap(data.x, bn);
  model.fit(data, {.batch_size = 32, .epochs = 40, .seed = 0, .verbose = 0, .callbacks = {&gap}});

  auto& bn_layer = model.get_layer<BatchNormalization>("bn_layer");
  std::printf("\nMoving Mean:\n%s", all_values(bn_layer.moving_mean, "  ").c_str());
  std::printf("Moving Variance:\n%s", all_values(bn_layer.moving_variance, "  ").c_str());
  std::printf(
      "\nThe start value of the moving variance fades as 0.99^t, the averages catch up with the\n"
      "weights as training slows down, and the variance ratio settles near (B - 1) / B = 0.97:\n"
      "the moving variance averages biased batch variances.\n");
  return 0;
}
