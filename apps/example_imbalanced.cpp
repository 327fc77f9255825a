// Example 3: a binary classifier on imbalanced classes (1000 rows of one class, 100 of the
// other), with BatchNormalization between the hidden layer and its activation.
//
// It follows this Keras program:
//   x_train = np.concatenate([np.random.randn(1000, 10), np.random.randn(100, 10) + 5])
//   y_train = np.concatenate([np.zeros(1000), np.ones(100)])
//   model = tf.keras.Sequential([
//       tf.keras.layers.Dense(64, input_shape=(10,)),
//       tf.keras.layers.BatchNormalization(momentum=0.95),
//       tf.keras.layers.Activation('relu'),
//       tf.keras.layers.Dense(1, activation='sigmoid')])
//   model.compile(optimizer='adam', loss='binary_crossentropy')
//   model.fit(x_train, y_train, epochs=10)
//   # ... (Inference and evaluation) ...
//
// The evaluation the original leaves out is written here: on a second sample drawn the same way
// (a test set the model never trained on), predict() in inference mode, where
// BatchNormalization normalizes with its moving statistics. With 10 % positives, accuracy alone
// says little (always answering "0" scores 0.91), so the minority class gets its own figures:
//   precision = TP / (TP + FP)    recall = TP / (TP + FN)    F1 = 2 P R / (P + R)
//
// The same run from a config: normlab train configs/imbalanced.json (also what `normlab train`
// runs when given no config).
#include <cstdio>

#include "apps/report.h"
#include "normlab.h"

using namespace normlab;

int main() {
  set_num_threads(1);  // one thread: the same numbers on every run

  const Dataset train = make_imbalanced(/*seed=*/1);
  const Dataset test = make_imbalanced(/*seed=*/2);

  Sequential model(/*input_dim=*/10, /*seed=*/0);
  model.add(Dense(64));
  model.add(BatchNormalization({.momentum = 0.95f}));
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  std::printf("%s\n", model.summary().c_str());

  // fit shuffles the rows every epoch (the data come ordered: all zeros, then all ones); the
  // test set is shown as validation data after each epoch, it takes no part in training.
  model.fit(train, {.batch_size = 32, .epochs = 10, .seed = 0, .validation_data = test});

  const Tensor p = model.predict(test.x);  // probabilities of class 1, inference mode
  const ClassCounts minority = count_class(p, test.y, /*label=*/1.0f, /*threshold=*/0.5f);
  std::printf("\nTest set, %zu rows (%zu of class 1):\n", test.size(), minority.support());
  std::printf("  accuracy                        %.4f\n", minority.accuracy());
  std::printf("  always answering 0 would score  %.4f\n",
              1.0 - static_cast<double>(minority.support()) / static_cast<double>(test.size()));
  std::printf("  minority %s\n", format_class_counts(minority).c_str());
  std::printf("  confusion: TP %zu  FP %zu  FN %zu  TN %zu\n", minority.tp, minority.fp,
              minority.fn, minority.tn);
  return 0;
}
