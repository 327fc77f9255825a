// Example 2: the model of Example 1 with momentum 0.9, trained by a loop written out step by
// step, printing the moving statistics as they evolve, epoch after epoch.
//
// It follows this Keras program:
//   model = tf.keras.Sequential([
//       tf.keras.layers.Dense(64, input_shape=(10,)),
//       tf.keras.layers.BatchNormalization(momentum=0.9, name='bn_layer'),
//       tf.keras.layers.Activation('relu')])
//   optimizer = tf.keras.optimizers.Adam()
//   for epoch in range(10):
//       for x_batch, y_batch in training_dataset:
//           with tf.GradientTape() as tape:
//               predictions = model(x_batch)
//               loss = tf.keras.losses.mse(y_batch, predictions)
//           gradients = tape.gradient(loss, model.trainable_variables)
//           optimizer.apply_gradients(zip(gradients, model.trainable_variables))
//
// Two details of the original matter here:
//   - model(x_batch) without training=True runs BatchNormalization in inference mode: it
//     normalizes with the moving statistics and never updates them, so they would stay at 0 and
//     1 for ever. The forward pass below says training=true, as model(x, training=True) would.
//   - tf.keras.losses.mse returns one loss per row and the tape differentiates their sum; the
//     loss below is their mean, as fit() uses. Adam's step hardly depends on that scale.
// With momentum 0.9 the averages forget their start values within a few dozen steps (0.9^32 =
// 0.03 after the first epoch), so they follow the weights much more closely than with 0.99.
//
// This loop takes the same steps as fit(): `normlab train configs/example_custom_loop.json`
// ends with the same moving statistics, to the last bit.
#include <cstdio>

#include "apps/report.h"
#include "normlab.h"

using namespace normlab;

int main() {
  set_num_threads(1);  // one thread: the same numbers on every run

  // training_dataset: 1000 rows of 10 features and 64 targets, in shuffled batches of 32.
  const Dataset data = make_regression(1000, /*seed=*/1);
  Batcher batches(data.size(), /*batch_size=*/32, /*shuffle=*/true, /*seed=*/0);

  Sequential model(/*input_dim=*/10, /*seed=*/0);
  model.add(Dense(64));
  auto& bn = model.add(BatchNormalization({.momentum = 0.9f, .name = "bn_layer"}));
  model.add(Activation("relu"));
  Adam optimizer;
  const auto loss = make_loss("mse");
  std::printf("%s\n", model.summary().c_str());

  Dataset batch;
  for (int epoch = 0; epoch < 10; ++epoch) {
    double loss_sum = 0.0;
    batches.begin_epoch();
    while (auto rows = batches.next()) {
      Batcher::gather(data, *rows, batch);  // x_batch, y_batch
      // The forward pass in training mode: batch statistics, moving averages updated.
      const Tensor& predictions = model.forward(batch.x, /*training=*/true);
      const float batch_loss = loss->forward(predictions, batch.y);
      // The gradient of the loss for every trainable variable, then one Adam step.
      model.zero_grad();
      model.backward(loss->backward());
      optimizer.apply(model.trainable_variables());
      loss_sum += batch_loss * static_cast<double>(batch.size());
    }
    std::printf("Epoch %2d/10  loss %.4f\n", epoch + 1,
                loss_sum / static_cast<double>(data.size()));
    std::printf("  moving_mean      %s\n", short_values(bn.moving_mean).c_str());
    std::printf("  moving_variance  %s\n", short_values(bn.moving_variance).c_str());
  }

  std::printf("\nbn_layer after %lld steps:\n%s", static_cast<long long>(optimizer.iterations()),
              batch_norm_report(model, false).c_str());
  return 0;
}
