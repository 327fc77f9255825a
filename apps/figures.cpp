// normlab_figures OUT_DIR [--quick]: the measurements behind docs/batchnorm.md and
// docs/claims.md, written to OUT_DIR as whitespace-separated .dat files (plotted by
// docs/figures/plots.gp) and markdown tables (.md). docs/figures/make.sh runs it; --quick uses
// fewer seeds and steps (the ctest docs.figures).
//
//   ema_<m>.dat          one channel's moving mean and variance per step against the
//                        population value and the closed forms, momentum m, plain and debiased
//   residual.md          the weight beta^t left on the initial value, measured and closed form
//   batch_<variant>.dat  Example 3: training-mode and inference-mode accuracy and loss per
//                        batch size, for plain BN, renorm with a schedule, ghost batches and
//                        plain BN recalibrated (PreciseBN)
//   loss_example<k>.dat  per-epoch training loss with and without BN, the three examples
//   minority.md          Example 3: minority recall and F1 over seeds, BN or not, class weights,
//                        weighted statistics
//   class_means.md       what Example 3's moving mean holds, against the per-class means
//   short_training.md    inference accuracy after a short training, before and after
//                        recalibration
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "apps/report.h"
#include "model/precise_bn.h"
#include "normlab.h"

using namespace normlab;
namespace fs = std::filesystem;

namespace {

struct Settings {
  fs::path out;
  bool quick = false;
  int seeds() const { return quick ? 2 : 10; }
};

// Writes `text` to out/name, never leaving a half-written file (core/atomic_file.h).
void write_file(const Settings& s, const std::string& name, const std::string& text) {
  write_file_atomically(s.out / name, text);
}

std::string fmt(const char* format, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, a);
  return buf;
}

// mean, min and max of a list of runs' values.
struct Spread {
  double mean = 0, lo = 0, hi = 0;
};
Spread spread(const std::vector<double>& v) {
  Spread r{0.0, *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
  for (double x : v) r.mean += x / static_cast<double>(v.size());
  return r;
}
std::string cell(const Spread& s) {
  return fmt("%.3f", s.mean) + " [" + fmt("%.3f", s.lo) + ", " + fmt("%.3f", s.hi) + "]";
}

// ---- Figure 1: the moving averages of one channel ------------------------------------------
// Batches of B rows of one channel x ~ N(mu, sigma^2) through a lone BatchNormalization layer in
// training mode. With moving_mean initialized to 0 and moving_variance to 1:
//   E[moving_mean_t]     = mu (1 - m^t)
//   E[moving_variance_t] = m^t + (1 - m^t) sigma^2 (B - 1) / B     (biased batch variances)
// and debiased: E = mu and sigma^2 (B - 1) / B from the first step.
constexpr double kMu = 3.0, kSigma = 2.0;
constexpr std::size_t kRows = 32;

void moving_average_figure(const Settings& s) {
  const int steps = s.quick ? 1000 : 5000, runs = s.quick ? 4 : 40;
  const double var_b = kSigma * kSigma * (kRows - 1) / kRows;
  for (float m : {0.9f, 0.99f, 0.999f}) {
    std::vector<double> mean[2], var[2], first_mean[2], first_var[2];
    for (int debias = 0; debias < 2; ++debias) {
      mean[debias].assign(steps, 0.0);
      var[debias].assign(steps, 0.0);
      for (int run = 0; run < runs; ++run) {
        BatchNormalization bn({.momentum = m, .moving_average_debias = debias == 1});
        Rng rng(100 + run);
        bn.build(1, rng);
        Tensor x(kRows, 1);
        for (int t = 0; t < steps; ++t) {
          for (std::size_t i = 0; i < kRows; ++i) x(i, 0) = kMu + kSigma * rng.normal();
          bn.forward(x, {Mode::Train});
          mean[debias][t] += bn.moving_mean[0] / runs;
          var[debias][t] += bn.moving_variance[0] / runs;
          if (run == 0) {
            first_mean[debias].push_back(bn.moving_mean[0]);
            first_var[debias].push_back(bn.moving_variance[0]);
          }
        }
      }
    }
    std::ostringstream f;
    f << "# momentum " << m << ", " << runs << " runs of " << steps << " steps, batches of "
      << kRows << " rows from N(" << kMu << ", " << kSigma * kSigma << ")\n"
      << "# step mean_plain mean_debiased mean_closed var_plain var_debiased var_closed"
         " mean_plain_run0 var_plain_run0 mean_debiased_run0 var_debiased_run0\n";
    for (int t = 0; t < steps; ++t) {
      const double keep = std::pow(static_cast<double>(m), t + 1);
      f << t + 1 << ' ' << mean[0][t] << ' ' << mean[1][t] << ' ' << kMu * (1 - keep) << ' '
        << var[0][t] << ' ' << var[1][t] << ' ' << keep + (1 - keep) * var_b << ' '
        << first_mean[0][t] << ' ' << first_var[0][t] << ' ' << first_mean[1][t] << ' '
        << first_var[1][t] << '\n';
    }
    write_file(s, "ema_" + fmt("%g", m) + ".dat", f.str());
  }
}

// The weight m^t the moving mean still gives its initial value after t updates: a batch of
// ones (mean 1, variance 0) moves moving_mean from 0 to 1 - m^t, so the residual is
// 1 - moving_mean. Measured in the layer's float32 against the closed form.
void residual_table(const Settings& s) {
  std::ostringstream f;
  f << "| momentum m | time constant 1/(1-m) | t | residual measured | m^t closed form |\n"
    << "| --- | --- | --- | --- | --- |\n";
  for (float m : {0.9f, 0.95f, 0.99f}) {
    BatchNormalization bn({.momentum = m});
    Rng rng(0);
    bn.build(1, rng);
    const Tensor ones(8, 1, 1.0f);
    const int tau = static_cast<int>(std::lround(1.0 / (1.0 - m)));
    const std::vector<int> marks = {1, tau, 2 * tau, 3 * tau, 5 * tau};
    for (int t = 1; t <= marks.back(); ++t) {
      bn.forward(ones, {Mode::Train});
      if (std::find(marks.begin(), marks.end(), t) != marks.end())
        f << "| " << fmt("%g", m) << " | " << tau << " | " << t << " | "
          << fmt("%.4f", 1.0 - bn.moving_mean[0]) << " | "
          << fmt("%.4f", std::pow(static_cast<double>(m), t)) << " |\n";
    }
  }
  write_file(s, "residual.md", f.str());
}

// ---- Example 3 models ---------------------------------------------------------------------
// Example 3's model: Dense(64) -> [BatchNormalization] -> ReLU -> Dense(1, sigmoid), Adam.
Sequential example3(std::uint64_t seed, const BatchNormConfig* bn) {
  Sequential model(10, seed);
  model.add(Dense(64));
  if (bn) model.add(BatchNormalization(*bn));
  model.add(Activation("relu"));
  model.add(Dense(1, "sigmoid"));
  model.compile(Adam(), "binary_crossentropy", {"accuracy"});
  return model;
}

BatchNormalization& bn_layer(Sequential& model) {
  return dynamic_cast<BatchNormalization&>(model.layer(1));
}

// Accuracy and mean binary cross-entropy of predictions p (N x 1) against y.
struct Score {
  double accuracy = 0, loss = 0;
};
void add_score(Score& s, const Tensor& p, const Tensor& y) {
  for (std::size_t i = 0; i < p.rows(); ++i) {
    const double q = std::clamp(static_cast<double>(p(i, 0)), 1e-7, 1 - 1e-7);
    s.accuracy += (p(i, 0) > 0.5f) == (y(i, 0) > 0.5f);
    s.loss -= y(i, 0) > 0.5f ? std::log(q) : std::log(1 - q);
  }
}

// The model in training mode on `data` in shuffled batches of `batch` rows: the output the
// training steps see. It moves the moving statistics, so it is measured last.
Score training_mode_score(Sequential& model, const Dataset& data, std::size_t batch) {
  Batcher batches(data.size(), batch, /*shuffle=*/true, /*seed=*/7);
  batches.begin_epoch();
  Dataset b;
  Score s;
  while (auto rows = batches.next()) {
    Batcher::gather(data, *rows, b);
    add_score(s, model.forward(b.x, Mode::Train), b.y);
  }
  s.accuracy /= static_cast<double>(data.size());
  s.loss /= static_cast<double>(data.size());
  return s;
}

Score inference_score(Sequential& model, const Dataset& data) {
  Score s;
  add_score(s, model.predict(data.x), data.y);
  s.accuracy /= static_cast<double>(data.size());
  s.loss /= static_cast<double>(data.size());
  return s;
}

// ---- Figure 2: training vs inference mode against the batch size ----------------------------
void batch_size_figure(const Settings& s) {
  const Dataset train = make_imbalanced(1), test = make_imbalanced(2);
  const std::vector<std::size_t> sizes = {2, 4, 8, 32, 128};
  // About the same number of steps at every batch size (1100 full, 330 quick), so that a large
  // batch is not simply less trained: ceil(steps B / N) epochs of ceil(N / B) steps.
  const std::size_t target_steps = s.quick ? 300 : 1000;
  const auto epochs_for = [&](std::size_t batch) {
    return static_cast<int>((target_steps * batch + train.size() - 1) / train.size());
  };
  struct Variant {
    std::string name;
    std::function<BatchNormConfig(std::int64_t steps)> config;
    bool recalibrate = false;
  };
  const std::vector<Variant> variants = {
      {"plain", [](std::int64_t) { return BatchNormConfig{.momentum = 0.95f}; }},
      // The paper's recipe scaled to this run: plain BN for the first 10 % of the steps, rmax
      // reaching 3 at half the steps and dmax reaching 5 at 40 %.
      {"renorm",
       [](std::int64_t steps) {
         return BatchNormConfig{
             .momentum = 0.95f,
             .renorm = true,
             .renorm_schedule = RenormSchedule{
                 .warmup_steps = steps / 10, .rmax_steps = steps / 2, .dmax_steps = steps * 2 / 5}};
       }},
      // Ghost batches of 4 rows: batches of 2 and 4 are one ghost batch, larger ones several.
      {"ghost",
       [](std::int64_t) {
         return BatchNormConfig{
             .momentum = 0.95f, .virtual_batch_size = 4, .virtual_batch_size_merge = true};
       }},
      {"precise", [](std::int64_t) { return BatchNormConfig{.momentum = 0.95f}; }, true},
  };
  for (const Variant& v : variants) {
    std::ostringstream f;
    f << "# " << v.name << ": Example 3, about " << target_steps << " steps, " << s.seeds()
      << " seeds; mean, min, max over seeds\n"
      << "# batch train_acc lo hi infer_acc lo hi train_loss lo hi infer_loss lo hi\n";
    for (std::size_t batch : sizes) {
      std::vector<double> ta, ia, tl, il;
      for (int seed = 0; seed < s.seeds(); ++seed) {
        const int epochs = epochs_for(batch);
        const auto steps = static_cast<std::int64_t>(epochs * ((train.size() + batch - 1) / batch));
        const BatchNormConfig config = v.config(steps);
        Sequential model = example3(seed, &config);
        model.fit(train, {.batch_size = batch,
                          .epochs = epochs,
                          .seed = static_cast<std::uint64_t>(seed),
                          .verbose = 0});
        if (v.recalibrate) recalibrate_batchnorm(model, train.x);
        const Score infer = inference_score(model, test);
        const Score trained = training_mode_score(model, test, batch);
        ta.push_back(trained.accuracy);
        ia.push_back(infer.accuracy);
        tl.push_back(trained.loss);
        il.push_back(infer.loss);
      }
      f << batch;
      for (const auto* values : {&ta, &ia, &tl, &il}) {
        const Spread sp = spread(*values);
        f << ' ' << sp.mean << ' ' << sp.lo << ' ' << sp.hi;
      }
      f << '\n';
    }
    write_file(s, "batch_" + v.name + ".dat", f.str());
  }
}

// ---- Figure 3: loss curves with and without BN ------------------------------------------------
// Examples 1 and 2: Dense(64) -> [BN(momentum)] -> ReLU, MSE, Adam, batches of 32 on
// make_regression(1000, 1), as apps/example_basic.cpp and apps/example_custom_loop.cpp.
std::vector<float> regression_losses(float momentum, bool with_bn, int epochs) {
  const Dataset data = make_regression(1000, 1);
  Sequential model(10, 0);
  model.add(Dense(64));
  if (with_bn) model.add(BatchNormalization({.momentum = momentum}));
  model.add(Activation("relu"));
  model.compile(Adam(), "mse");
  return model.fit(data, {.batch_size = 32, .epochs = epochs, .seed = 0, .verbose = 0})["loss"];
}

void loss_figures(const Settings& s) {
  const auto write = [&](int example, const std::vector<float>& bn, const std::vector<float>& no,
                         const std::vector<float>& bn_val, const std::vector<float>& no_val) {
    std::ostringstream f;
    f << "# epoch loss_bn loss_no_bn" << (bn_val.empty() ? "" : " val_loss_bn val_loss_no_bn")
      << '\n';
    for (std::size_t e = 0; e < bn.size(); ++e) {
      f << e + 1 << ' ' << bn[e] << ' ' << no[e];
      if (!bn_val.empty()) f << ' ' << bn_val[e] << ' ' << no_val[e];
      f << '\n';
    }
    write_file(s, "loss_example" + std::to_string(example) + ".dat", f.str());
  };
  const int scale = s.quick ? 4 : 1;
  write(1, regression_losses(0.99f, true, 40 / scale), regression_losses(0.99f, false, 40 / scale),
        {}, {});
  write(2, regression_losses(0.9f, true, 10 / scale), regression_losses(0.9f, false, 10 / scale),
        {}, {});
  const Dataset train = make_imbalanced(1), test = make_imbalanced(2);
  const BatchNormConfig bn{.momentum = 0.95f};
  const auto fit3 = [&](const BatchNormConfig* config) {
    Sequential model = example3(0, config);
    return model.fit(
        train,
        {.batch_size = 32, .epochs = 10 / scale, .seed = 0, .verbose = 0, .validation_data = test});
  };
  const History with = fit3(&bn), without = fit3(nullptr);
  write(3, with["loss"], without["loss"], with["val_loss"], without["val_loss"]);
}

// ---- Example 3: the minority class -----------------------------------------------------------
// Example 3's data with the minority's shift of 5 in every feature scaled to `shift`.
Dataset with_shift(Dataset d, float shift) {
  for (std::size_t i = 0; i < d.size(); ++i)
    if (d.y(i, 0) > 0.5f)
      for (std::size_t j = 0; j < d.x.cols(); ++j) d.x(i, j) += shift - 5.0f;
  return d;
}

void minority_table(const Settings& s) {
  struct Setup {
    std::string name;
    bool bn, class_weight, weighted;
  };
  const std::vector<Setup> setups = {{"no BN", false, false, false},
                                     {"no BN, class weights", false, true, false},
                                     {"BN", true, false, false},
                                     {"BN, class weights", true, true, false},
                                     {"BN, class weights, weighted statistics", true, true, true}};
  std::ostringstream f;
  f << "| shift | model | minority recall | minority F1 | accuracy |\n"
    << "| --- | --- | --- | --- | --- |\n";
  for (float shift : {5.0f, 0.5f}) {
    const Dataset train = with_shift(make_imbalanced(1), shift);
    const Dataset test = with_shift(make_imbalanced(2), shift);
    for (const Setup& u : setups) {
      std::vector<double> recall, f1, accuracy;
      for (int seed = 0; seed < s.seeds(); ++seed) {
        const BatchNormConfig config{.momentum = 0.95f, .weighted_statistics = u.weighted};
        Sequential model = example3(seed, u.bn ? &config : nullptr);
        FitOptions o{
            .batch_size = 32, .epochs = 10, .seed = static_cast<std::uint64_t>(seed), .verbose = 0};
        if (u.class_weight) o.class_weight = {{0, 1.0f}, {1, 10.0f}};  // 1000 : 100 rows
        model.fit(train, o);
        const ClassCounts c = count_class(model.predict(test.x), test.y, 1.0f, 0.5f);
        recall.push_back(c.recall());
        f1.push_back(c.f1());
        accuracy.push_back(c.accuracy());
      }
      f << "| " << fmt("%g", shift) << " | " << u.name << " | " << cell(spread(recall)) << " | "
        << cell(spread(f1)) << " | " << cell(spread(accuracy)) << " |\n";
    }
  }
  write_file(s, "minority.md", f.str());
}

// What the averages hold: per channel j of Example 3's BN input (the Dense outputs), with
// class means mu0, mu1, within-class variance w and the class-1 share p = 100/1100:
//   position of the moving mean  a_j = (moving_mean_j - mu0_j) / (mu1_j - mu0_j)   pooled: p
//   moving variance / w_j                          pooled: 1 + p (1 - p) (mu1_j - mu0_j)^2 / w_j
void class_means_table(const Settings& s) {
  const Dataset train = make_imbalanced(1);
  const BatchNormConfig config{.momentum = 0.95f};
  Sequential model = example3(0, &config);
  model.fit(train, {.batch_size = 32, .epochs = 10, .seed = 0, .verbose = 0});
  const Tensor z = model.layer(0).forward(train.x, {Mode::Infer});
  const BatchNormalization& bn = bn_layer(model);
  const double p = 100.0 / 1100.0;
  std::vector<double> a, var_ratio, pooled_ratio;
  for (std::size_t j = 0; j < z.cols(); ++j) {
    double mu[2] = {0, 0}, n[2] = {0, 0}, within = 0;
    for (std::size_t i = 0; i < z.rows(); ++i) {
      const int c = train.y(i, 0) > 0.5f;
      mu[c] += z(i, j);
      n[c] += 1;
    }
    mu[0] /= n[0];
    mu[1] /= n[1];
    for (std::size_t i = 0; i < z.rows(); ++i)
      within += std::pow(z(i, j) - mu[train.y(i, 0) > 0.5f], 2) / static_cast<double>(z.rows());
    if (std::abs(mu[1] - mu[0]) > 0.1) a.push_back((bn.moving_mean[j] - mu[0]) / (mu[1] - mu[0]));
    var_ratio.push_back(bn.moving_variance[j] / within);
    pooled_ratio.push_back(1 + p * (1 - p) * std::pow(mu[1] - mu[0], 2) / within);
  }
  std::ostringstream f;
  f << "| per channel of the BN input: mean [min, max] over channels | moving average | pooled "
       "statistics of the 1100 rows |\n| --- | --- | --- |\n"
    << "| position of the mean between the class means (0: class 0, 1: class 1; " << a.size()
    << " channels whose class means differ by > 0.1) | " << cell(spread(a)) << " | "
    << fmt("%.3f", p) << " |\n"
    << "| variance / within-class variance | " << cell(spread(var_ratio)) << " | "
    << cell(spread(pooled_ratio)) << " |\n";
  write_file(s, "class_means.md", f.str());
}

// The one way inference still fails: averages not converged. Example 3 trained for a few steps
// with momentum 0.99 keeps most of the initial 0 and 1 (0.99^t of them).
void short_training_table(const Settings& s) {
  const Dataset train = make_imbalanced(1), test = make_imbalanced(2);
  std::ostringstream f;
  f << "| steps | residual 0.99^t | training-mode accuracy | inference accuracy | inference "
       "accuracy after recalibrate_batchnorm |\n| --- | --- | --- | --- | --- |\n";
  for (std::size_t steps : {5, 10, 20, 35}) {
    std::vector<double> train_acc, infer_acc, recal_acc;
    for (int seed = 0; seed < s.seeds(); ++seed) {
      const BatchNormConfig config{.momentum = 0.99f};
      Sequential model = example3(seed, &config);
      model.fit(train, {.batch_size = 32,
                        .epochs = 1,
                        .seed = static_cast<std::uint64_t>(seed),
                        .verbose = 0,
                        .steps_per_epoch = steps});
      infer_acc.push_back(inference_score(model, test).accuracy);
      recalibrate_batchnorm(model, train.x);
      recal_acc.push_back(inference_score(model, test).accuracy);
      train_acc.push_back(training_mode_score(model, test, 32).accuracy);
    }
    f << "| " << steps << " | " << fmt("%.3f", std::pow(0.99, static_cast<double>(steps))) << " | "
      << cell(spread(train_acc)) << " | " << cell(spread(infer_acc)) << " | "
      << cell(spread(recal_acc)) << " |\n";
  }
  write_file(s, "short_training.md", f.str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::strcmp(argv[2], "--quick") != 0)) {
    std::fprintf(stderr, "usage: normlab_figures OUT_DIR [--quick]\n");
    return 2;
  }
  try {
    set_num_threads(1);  // the same numbers on every run
    Settings s{argv[1], argc == 3};
    fs::create_directories(s.out);
    moving_average_figure(s);
    residual_table(s);
    loss_figures(s);
    minority_table(s);
    class_means_table(s);
    batch_size_figure(s);
    short_training_table(s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "normlab_figures: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
