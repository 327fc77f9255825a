// Losses (Keras 3, sum_over_batch_size): hand values on tiny inputs, central-difference checks
// of dL/dpred for every loss with and without sample weights, clipping, target validation.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "gradient_check.h"
#include "model/losses.h"

using namespace normlab;
namespace gc = normlab::gradient_check;

namespace {
const double kLn2 = std::log(2.0);
}  // namespace

TEST_CASE("mean_squared_error by hand: mean over outputs, then over rows") {
  auto mse = make_loss("mse");
  CHECK(mse->name() == "mean_squared_error");
  // row 0: ((1-0)^2 + (2-4)^2)/2 = 2.5; row 1: 0;  L = 1.25
  CHECK(mse->forward(Tensor{{1, 2}, {3, 3}}, Tensor{{0, 4}, {3, 3}}) == 1.25f);
  // dL/dp = 2 (p - y) / (K N) = [2/4, -4/4] for row 0
  CHECK(mse->backward() == Tensor{{0.5f, -1.0f}, {0, 0}});
  CHECK(make_loss("mean_squared_error")->name() == "mean_squared_error");
}

TEST_CASE("binary_crossentropy by hand on probabilities and on logits") {
  // p = [1/2, 3/4], y = [1, 0]: l = [ln 2, -ln(1/4) = 2 ln 2],  L = 3/2 ln 2
  auto bce = make_loss("binary_crossentropy");
  const Tensor y{{1}, {0}};
  CHECK(bce->forward(Tensor{{0.5f}, {0.75f}}, y) == doctest::Approx(1.5 * kLn2).epsilon(1e-6));
  // dl/dp = -y/p + (1-y)/(1-p) = [-2, 4], over N = 2
  CHECK(bce->backward()(0, 0) == doctest::Approx(-1.0).epsilon(1e-6));
  CHECK(bce->backward()(1, 0) == doctest::Approx(2.0).epsilon(1e-6));
  // Sample weights [1, 2]: (ln 2 + 2 * 2 ln 2) / 2 = 5/2 ln 2 (divided by N, not by sum w)
  const std::vector<float> w{1, 2};
  CHECK(bce->forward(Tensor{{0.5f}, {0.75f}}, y, w.data()) ==
        doctest::Approx(2.5 * kLn2).epsilon(1e-6));
  CHECK(bce->backward()(1, 0) == doctest::Approx(4.0).epsilon(1e-6));

  // logits z = [0, ln 3] are the same probabilities: the same loss; dL/dz = (sigmoid(z) - y)/N
  auto logits = make_loss("binary_crossentropy", true);
  CHECK(logits->from_logits());
  CHECK(logits->forward(Tensor{{0.0f}, {std::log(3.0f)}}, y) ==
        doctest::Approx(1.5 * kLn2).epsilon(1e-6));
  CHECK(logits->backward()(0, 0) == doctest::Approx(-0.25).epsilon(1e-6));
  CHECK(logits->backward()(1, 0) == doctest::Approx(0.375).epsilon(1e-6));

  // Two outputs: the mean over them. [1/2, 3/4] against [1, 0] in one row: 3/2 ln 2
  CHECK(bce->forward(Tensor{{0.5f, 0.75f}}, Tensor{{1, 0}}) ==
        doctest::Approx(1.5 * kLn2).epsilon(1e-6));
}

TEST_CASE("binary_crossentropy clips p to [1e-7, 1 - 1e-7] and passes no gradient there") {
  auto bce = make_loss("binary_crossentropy");
  // p = 0, y = 1: -log(1e-7) = 16.118
  CHECK(bce->forward(Tensor{{0.0f}}, Tensor{{1}}) ==
        doctest::Approx(-std::log(1e-7)).epsilon(1e-5));
  CHECK(bce->backward()(0, 0) == 0.0f);
  // p = 1, y = 0: in float32 1 - 1e-7 rounds to 1 - 2^-23, so l = 23 ln 2 = 15.942
  CHECK(bce->forward(Tensor{{1.0f}}, Tensor{{0}}) == doctest::Approx(23 * kLn2).epsilon(1e-5));
  CHECK(bce->backward()(0, 0) == 0.0f);
  // Logits never clip: z = -30, y = 1 gives l = 30 (log(1 + e^30) - 0 ~ 30)
  auto logits = make_loss("binary_crossentropy", true);
  CHECK(logits->forward(Tensor{{-30.0f}}, Tensor{{1}}) == doctest::Approx(30.0).epsilon(1e-6));
  CHECK(logits->backward()(0, 0) == doctest::Approx(-1.0).epsilon(1e-6));
}

TEST_CASE("categorical_crossentropy by hand: p is normalized, -sum y log q") {
  // p = [1, 3] normalizes to q = [1/4, 3/4]; y = [0, 1]: l = -ln(3/4)
  auto cce = make_loss("categorical_crossentropy");
  CHECK(cce->forward(Tensor{{1, 3}}, Tensor{{0, 1}}) ==
        doctest::Approx(-std::log(0.75)).epsilon(1e-6));
  // l = -ln p1 + ln(p0 + p1): dl/dp0 = 1/4, dl/dp1 = -1/3 + 1/4 = -1/12
  CHECK(cce->backward()(0, 0) == doctest::Approx(0.25).epsilon(1e-6));
  CHECK(cce->backward()(0, 1) == doctest::Approx(-1.0 / 12.0).epsilon(1e-6));

  // logits [0, ln 3]: softmax = [1/4, 3/4], the same loss; dl/dz = softmax - y = [1/4, -1/4]
  auto logits = make_loss("categorical_crossentropy", true);
  CHECK(logits->forward(Tensor{{0.0f, std::log(3.0f)}}, Tensor{{0, 1}}) ==
        doctest::Approx(-std::log(0.75)).epsilon(1e-6));
  CHECK(logits->backward()(0, 0) == doctest::Approx(0.25).epsilon(1e-6));
  CHECK(logits->backward()(0, 1) == doctest::Approx(-0.25).epsilon(1e-6));
}

TEST_CASE("sparse_categorical_crossentropy equals the one-hot loss") {
  auto sparse = make_loss("sparse_categorical_crossentropy");
  auto dense = make_loss("categorical_crossentropy");
  const Tensor p{{1, 3, 4}, {2, 2, 1}};
  const float ls = sparse->forward(p, Tensor{{1}, {2}});
  const float ld = dense->forward(p, Tensor{{0, 1, 0}, {0, 0, 1}});
  // row 0: -ln(3/8), row 1: -ln(1/5)
  CHECK(ls == doctest::Approx((-std::log(3.0 / 8.0) - std::log(0.2)) / 2).epsilon(1e-6));
  CHECK(ls == ld);
  CHECK(sparse->backward() == dense->backward());
  auto sparse_logits = make_loss("sparse_categorical_crossentropy", true);
  CHECK(sparse_logits->forward(Tensor{{0.0f, std::log(3.0f)}}, Tensor{{1}}) ==
        doctest::Approx(-std::log(0.75)).epsilon(1e-6));
}

TEST_CASE("Every loss's dL/dpred matches central differences, with and without sample weights") {
  struct Case {
    const char* name;
    bool from_logits;
    double low, high;  // prediction range, inside the clips
    double h;          // smaller where log(p) curves hard
  };
  const Case cases[] = {
      {"mean_squared_error", false, -2.0, 2.0, 1e-2},
      {"binary_crossentropy", false, 0.1, 0.9, 2e-3},
      {"binary_crossentropy", true, -3.0, 3.0, 1e-2},
      {"categorical_crossentropy", false, 0.1, 1.0, 2e-3},
      {"categorical_crossentropy", true, -2.0, 2.0, 1e-2},
      {"sparse_categorical_crossentropy", false, 0.1, 1.0, 2e-3},
      {"sparse_categorical_crossentropy", true, -2.0, 2.0, 1e-2},
  };
  const std::size_t n = 4, k = 3;
  for (const Case& c : cases)
    for (bool weighted : {false, true}) {
      CAPTURE(c.name);
      CAPTURE(c.from_logits);
      CAPTURE(weighted);
      Rng rng(31);
      auto loss = make_loss(c.name, c.from_logits);
      Tensor p = gc::random_tensor(n, k, rng, c.low, c.high);
      Tensor y;
      const std::string name = c.name;
      if (name == "sparse_categorical_crossentropy") {
        y = Tensor(n, 1);
        for (float& v : y) v = static_cast<float>(rng.below(k));
      } else if (name == "categorical_crossentropy") {
        y = Tensor(n, k);  // soft labels summing to 1
        for (std::size_t i = 0; i < n; ++i) {
          const std::size_t hot = rng.below(k);
          for (std::size_t j = 0; j < k; ++j) y(i, j) = j == hot ? 0.8f : 0.1f;
        }
      } else {
        y = gc::random_tensor(n, k, rng, name == "mean_squared_error" ? -1.0 : 0.0, 1.0);
      }
      std::vector<float> w;
      if (weighted) w = {0.5f, 2.0f, 0.0f, 1.5f};
      const float* sw = weighted ? w.data() : nullptr;
      loss->check_targets(y, k);
      loss->forward(p, y, sw);
      const Tensor analytic = loss->backward();
      const gc::Result r = gc::check_tensor(
          "dp", p, analytic, [&] { return static_cast<double>(loss->forward(p, y, sw)); }, c.h);
      CHECK_MESSAGE(r.ok(), r.summary());
      if (weighted)  // a zero weight zeroes that row's gradient
        for (std::size_t j = 0; j < k; ++j) CHECK(analytic(2, j) == 0.0f);
    }
}

TEST_CASE("The loss gradient check rejects a gradient missing the 1/N of the batch mean") {
  auto loss = make_loss("binary_crossentropy", true);
  Rng rng(2);
  Tensor z = gc::random_tensor(4, 1, rng, -2.0, 2.0);
  const Tensor y{{1}, {0}, {1}, {0}};
  loss->forward(z, y);
  Tensor wrong = loss->backward();
  for (float& v : wrong) v *= 4.0f;
  const auto objective = [&] { return static_cast<double>(loss->forward(z, y)); };
  CHECK(gc::check_tensor("dz", z, loss->backward(), objective, 1e-2).ok());
  CHECK_FALSE(gc::check_tensor("dz", z, wrong, objective, 1e-2).ok());
}

TEST_CASE("Losses reject targets that do not fit") {
  auto sparse = make_loss("sparse_categorical_crossentropy");
  CHECK_THROWS_WITH_AS(sparse->check_targets(Tensor{{0}, {3}}, 3),
                       doctest::Contains("sparse_categorical_crossentropy: target at row 1, "
                                         "column 0 is 3; expected an integer class index "
                                         "in [0, 2]"),
                       Error);
  CHECK_THROWS_WITH_AS(sparse->check_targets(Tensor{{0.5f}}, 3),
                       doctest::Contains("expected an integer class index"), Error);
  CHECK_THROWS_WITH_AS(sparse->check_targets(Tensor{{0, 1, 0}}, 3),
                       doctest::Contains("targets of shape (1, 3) do not fit 3 model outputs; "
                                         "expected one class index per row"),
                       Error);
  auto bce = make_loss("binary_crossentropy");
  CHECK_THROWS_WITH_AS(bce->check_targets(Tensor{{0}, {2}}, 1),
                       doctest::Contains("binary_crossentropy: target at row 1, column 0 is "
                                         "2; expected a value in [0, 1]"),
                       Error);
  CHECK_THROWS_WITH_AS(bce->check_targets(Tensor{{0, 1}}, 1),
                       doctest::Contains("targets of shape (1, 2) do not fit 1 model outputs; "
                                         "expected 1 target columns, one per output"),
                       Error);
  auto cce = make_loss("categorical_crossentropy");
  CHECK_THROWS_WITH_AS(cce->check_targets(Tensor{{0, 1}}, 3),
                       doctest::Contains("do not fit 3 model outputs"), Error);
  auto mse = make_loss("mse");
  CHECK_THROWS_WITH_AS(mse->check_targets(Tensor{{NAN}}, 1),
                       doctest::Contains("target at row 0, column 0 is not finite"), Error);
  CHECK_NOTHROW(mse->check_targets(Tensor{{-7, 9}}, 2));
  // forward itself refuses targets that would be read out of bounds or silently mislabel
  CHECK_THROWS_WITH_AS(mse->forward(Tensor{{1}, {2}}, Tensor{{1}}),
                       doctest::Contains("2 predictions but 1 target rows"), Error);
  CHECK_THROWS_WITH_AS(mse->forward(Tensor{{1, 2}}, Tensor{{1}}),
                       doctest::Contains("do not fit 2 model outputs"), Error);
  CHECK_THROWS_WITH_AS(sparse->forward(Tensor{{1, 2, 3}}, Tensor{{3}}),
                       doctest::Contains("expected an integer class index in [0, 2]"), Error);
}

TEST_CASE("make_loss: unknown names and from_logits on mse are errors") {
  CHECK_THROWS_WITH_AS(make_loss("hinge"),
                       doctest::Contains("unknown loss 'hinge': expected one of mean_squared_error "
                                         "(mse), binary_crossentropy, categorical_crossentropy, "
                                         "sparse_categorical_crossentropy"),
                       Error);
  CHECK_THROWS_WITH_AS(make_loss("mse", true),
                       doctest::Contains("mean_squared_error does not take from_logits"), Error);
}
