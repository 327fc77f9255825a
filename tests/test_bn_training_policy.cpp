// BatchNormalization's training-mode policy (layers/bn_training_policy.h): every row of the
// trainable x training x freeze_statistics x use_moving_statistics_in_training table, and the
// three single-sample policies.
#include <doctest/doctest.h>

#include <vector>

#include "core/error.h"
#include "layers/batch_normalization.h"
#include "model/sequential.h"

#include "batchnorm_options_support.h"

using namespace normlab;
using namespace normlab::bn_options;

// ---- frozen statistics -----------------------------------------------------------------------

TEST_CASE("BatchNormalization options: trainable x training x freeze x moving statistics") {
  // The table of docs/batchnorm-options.md: what normalizes, what updates, what trains.
  const Tensor x = ramp(6, 2, 1.5f, 1.0f), u = ramp(6, 2, 0.5f, 0.25f);
  for (const bool trainable : {true, false})
    for (const bool train : {true, false})
      for (const bool freeze : {true, false})
        for (const bool use_moving : {true, false}) {
          CAPTURE(trainable);
          CAPTURE(train);
          CAPTURE(freeze);
          CAPTURE(use_moving);
          auto bn = make_bn({{"freeze_statistics", freeze},
                             {"use_moving_statistics_in_training", use_moving},
                             {"trainable", trainable}},
                            2);
          bn->moving_mean = Tensor::row_vector({0.5f, -1.0f});
          bn->moving_variance = Tensor::row_vector({2.0f, 0.5f});
          auto reference = make_bn(json::object(), 2);
          reference->moving_mean = bn->moving_mean;
          reference->moving_variance = bn->moving_variance;
          const Tensor with_moving = reference->forward(x, {Mode::Infer});
          const Tensor with_batch = reference->forward(x, {Mode::Train});
          const Tensor before_mean = bn->moving_mean;
          const Tensor& y = bn->forward(x, {train ? Mode::Train : Mode::Infer});
          const bool batch_statistics = train && trainable && !use_moving;
          const bool updates = train && trainable && !freeze;
          CHECK(y == (batch_statistics ? with_batch : with_moving));
          CHECK((bn->moving_mean == before_mean) == !updates);
          Sequential model(2);
          model.add(make_bn({{"freeze_statistics", freeze}, {"trainable", trainable}}, 2));
          CHECK(model.trainable_variables().size() == (trainable ? 2u : 0u));
          if (train) {
            bn->zero_grad();
            bn->backward(u);
            CHECK(bn->dbeta[0] != 0.0f);
          }
        }
}

// ---- a batch of one --------------------------------------------------------------------------

TEST_CASE("BatchNormalization options: single_sample_policy") {
  const Tensor x{{3.0f, -1.0f}};
  auto keras = make_bn(json::object(), 2);
  keras->beta = Tensor::row_vector({0.5f, -0.5f});
  CHECK(keras->forward(x, {Mode::Train}) == Tensor{{0.5f, -0.5f}});

  auto torch = make_bn({{"single_sample_policy", "error"}}, 2);
  CHECK_THROWS_WITH_AS(torch->forward(x, {Mode::Train}),
                       doctest::Contains("a training batch of one row has no variance"), Error);
  CHECK(torch->forward(Tensor{{1, 2}, {3, 4}}, {Mode::Train}).rows() == 2);

  auto dlib = make_bn({{"single_sample_policy", "inference"}}, 2);
  dlib->moving_mean = Tensor::row_vector({1.0f, 1.0f});
  const Tensor inference = dlib->forward(x, {Mode::Infer});
  CHECK(dlib->forward(x, {Mode::Train}) == inference);
  CHECK(dlib->moving_mean == Tensor::row_vector({1.0f, 1.0f}));
  dlib->zero_grad();
  const Tensor& dx = dlib->backward(Tensor{{1.0f, 1.0f}});
  CHECK(dx(0, 0) == doctest::Approx(1.0f / std::sqrt(1.001f)));
}
