// Trains the imbalanced classifier through normlab's public API and checks it learned:
// exit 0 when accuracy >= 0.97, 1 otherwise.
#include <normlab/normlab.h>

#include <cstdio>

int main() {
  using namespace normlab;
  const Dataset data = make_imbalanced(7);
  Sequential model(10, 3);
  model.add(Dense(16));
  model.add(BatchNormalization({.momentum = 0.9f}));
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  model.fit(data, {.batch_size = 32, .epochs = 3, .verbose = 0});
  const float accuracy = log_value(model.evaluate(data.x, data.y), "accuracy");
  std::printf("normlab %s: accuracy %.4f\n", version(), accuracy);
  return accuracy >= 0.97f ? 0 : 1;
}
