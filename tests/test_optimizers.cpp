// Every optimizer against golden trajectories from tests/optimizers/generate.py: Keras 3's
// formulas transcribed into PyTorch float64 (keras/src/optimizers/*.py, base_optimizer.py for
// clipping and weight decay), cross-checked there against torch.optim where torch computes the
// same update, and torch.optim's own runs for the PyTorch forms. Two variables receive a fixed
// gradient sequence; the weights after every step must match. The learning-rate schedules are
// checked step by step against the same generator's transcription of
// keras/src/optimizers/schedules/learning_rate_schedule.py (and torch.optim.lr_scheduler there).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "optim/adam.h"
#include "optim/nadam.h"
#include "optim/registry.h"
#include "optim/schedules.h"

using namespace normlab;
using nlohmann::json;

namespace {

const std::filesystem::path kGolden =
    std::filesystem::path(NORMLAB_SOURCE_DIR) / "tests" / "optimizers" / "trajectories.json";

json golden() {
  std::ifstream in(kGolden);
  REQUIRE_MESSAGE(in.good(), "cannot read " << kGolden);
  return json::parse(in);
}

Tensor tensor(const json& rows) {
  Tensor t(rows.size(), rows[0].size());
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c) t(r, c) = rows[r][c].get<float>();
  return t;
}

// |actual - expected| <= 1e-6 + 1e-5 |expected|: float32 against float64 over six steps.
void check_close(const Tensor& actual, const json& expected, const std::string& where) {
  for (std::size_t r = 0; r < actual.rows(); ++r)
    for (std::size_t c = 0; c < actual.cols(); ++c) {
      const double e = expected[r][c].get<double>();
      INFO(where << " [" << r << "][" << c << "]");
      CHECK(std::abs(actual(r, c) - e) <= 1e-6 + 1e-5 * std::abs(e));
    }
}

struct Run {
  Tensor kernel, gamma, kernel_grad, gamma_grad;
  std::vector<Variable> vars() {
    return {{"kernel", &kernel, &kernel_grad, false}, {"gamma", &gamma, &gamma_grad, true}};
  }
};

Run start(const json& g) {
  Run run{tensor(g["initial_weights"]["kernel"]), tensor(g["initial_weights"]["gamma"]), {}, {}};
  return run;
}

void set_gradients(Run& run, const json& g, std::size_t step) {
  run.kernel_grad = tensor(g["gradients"][step]["kernel"]);
  run.gamma_grad = tensor(g["gradients"][step]["gamma"]);
}

}  // namespace

TEST_CASE("every optimizer follows its golden trajectory") {
  const json g = golden();
  REQUIRE(g["cases"].size() >= 18);
  for (const json& c : g["cases"]) {
    const std::string id = c["id"].get<std::string>();
    SUBCASE(id.c_str()) {
      INFO(id << " (" << c["produced_by"].get<std::string>() << ")");
      auto optimizer = optimizer_from_json(c["optimizer"], id);
      Run run = start(g);
      const auto vars = run.vars();
      for (std::size_t s = 0; s < c["steps"].size(); ++s) {
        set_gradients(run, g, s);
        optimizer->apply(vars);
        if (s == 0 && c.contains("first_step_applied_grads")) {
          check_close(run.kernel_grad, c["first_step_applied_grads"]["kernel"], "clipped kernel");
          check_close(run.gamma_grad, c["first_step_applied_grads"]["gamma"], "clipped gamma");
        }
        check_close(run.kernel, c["steps"][s]["kernel"], "step " + std::to_string(s + 1));
        check_close(run.gamma, c["steps"][s]["gamma"], "step " + std::to_string(s + 1));
      }
      CHECK(optimizer->iterations() == static_cast<std::int64_t>(c["steps"].size()));
      optimizer->finalize_variable_values(vars);  // the averages with use_ema, else nothing
      const json& final = c.contains("finalized") ? c["finalized"] : c["steps"].back();
      check_close(run.kernel, final["kernel"], "finalized");
      check_close(run.gamma, final["gamma"], "finalized");
      // Serialized and read back, the optimizer is the same.
      CHECK(optimizer_from_json(optimizer_to_json(*optimizer), id)->get_config() ==
            optimizer->get_config());
    }
  }
}

TEST_CASE("the golden trajectories separate the forms they encode") {
  // Each PyTorch form differs from the Keras form of the same settings by more than the
  // tolerance, so the trajectories above could not pass with the other form.
  const json g = golden();
  for (const std::string id :
       {"rmsprop_pytorch", "adagrad_pytorch", "adamax_pytorch", "nadam_pytorch"}) {
    CAPTURE(id);
    json keras;
    for (const json& c : g["cases"])
      if (c["id"] == id) keras = c;
    REQUIRE(!keras.is_null());
    json config = keras["optimizer"]["config"];
    if (config.contains("epsilon_placement")) config["epsilon_placement"] = "keras";
    if (config.contains("momentum_decay")) config.erase("momentum_decay");
    auto optimizer = optimizer_from_json(
        {{"class_name", keras["optimizer"]["class_name"]}, {"config", config}}, id);
    Run run = start(g);
    const auto vars = run.vars();
    double worst = 0.0;
    for (std::size_t s = 0; s < keras["steps"].size(); ++s) {
      set_gradients(run, g, s);
      optimizer->apply(vars);
      for (std::size_t c = 0; c < 3; ++c)
        worst = std::max(
            worst, std::abs(run.gamma(0, c) - keras["steps"][s]["gamma"][0][c].get<double>()));
    }
    CHECK(worst > 1e-4);
  }
}

TEST_CASE("Nadam resumed from its step count repeats the uninterrupted run bit for bit") {
  const json g = golden();
  const NadamConfig config{.learning_rate = 0.002f};
  Nadam straight(config);
  Run a = start(g);
  const auto va = a.vars();
  for (std::size_t s = 0; s < 6; ++s) {
    set_gradients(a, g, s);
    straight.apply(va);
  }
  Nadam first(config);
  Run b = start(g);
  const auto vb = b.vars();
  for (std::size_t s = 0; s < 3; ++s) {
    set_gradients(b, g, s);
    first.apply(vb);
  }
  // A second optimizer takes over the slots and the step count, as a checkpoint restores them.
  Nadam resumed(config);
  resumed.build_slots(vb);
  auto from = first.slot_variables(), to = resumed.slot_variables();
  for (std::size_t i = 0; i < from.size(); ++i) *to[i].value = *from[i].value;
  resumed.set_iterations(first.iterations());
  for (std::size_t s = 3; s < 6; ++s) {
    set_gradients(b, g, s);
    resumed.apply(vb);
  }
  for (std::size_t i = 0; i < a.kernel.size(); ++i) CHECK(a.kernel.data()[i] == b.kernel.data()[i]);
  for (std::size_t i = 0; i < a.gamma.size(); ++i) CHECK(a.gamma.data()[i] == b.gamma.data()[i]);
}

TEST_CASE("weight decay and clipping options are checked") {
  CHECK_THROWS_WITH_AS(AdamW({}, {}), "AdamW: weight_decay must be a number, got none", Error);
  CHECK_THROWS_WITH_AS(Adam({}, {.clipnorm = 1.0f, .clipvalue = 1.0f}),
                       "only one of clipnorm, global_clipnorm and clipvalue can be set", Error);
  CHECK_THROWS_AS(Adam({}, {.exclude_from_weight_decay = {"("}}), Error);
  // AdamW's default weight decay is Keras' 0.004, and it is saved with the optimizer.
  const auto adamw = optimizer_from_json("adamw", "o");
  CHECK(adamw->class_name() == "AdamW");
  CHECK(adamw->options().weight_decay.value() == 0.004f);
  CHECK(adamw->get_config()["weight_decay"] == 0.004f);
  // An Adam without options serializes no option keys.
  CHECK(!optimizer_from_json("adam", "o")->get_config().contains("weight_decay"));
}

TEST_CASE("every learning-rate schedule follows Keras' curve step by step") {
  const json g = golden();
  REQUIRE(g["schedules"].size() >= 10);
  for (const json& c : g["schedules"]) {
    const std::string id = c["id"].get<std::string>();
    SUBCASE(id.c_str()) {
      const auto schedule = schedule_from_json(c["schedule"], id);
      const json& lrs = c["learning_rates"];
      for (std::size_t s = 0; s < lrs.size(); ++s) {
        const double e = lrs[s].get<double>();
        INFO(id << " step " << s);
        CHECK(std::abs((*schedule)(static_cast<std::int64_t>(s)) - e) <= 1e-12 * std::max(1.0, e));
      }
      const auto back = schedule_from_json(schedule_to_json(*schedule), id);
      CHECK(back->get_config() == schedule->get_config());
    }
  }
}

TEST_CASE("an optimizer with a schedule uses the step's learning rate and saves the schedule") {
  const json spec = {{"class_name", "PiecewiseConstantDecay"},
                     {"config", {{"boundaries", {1}}, {"values", {0.5, 0.25}}}}};
  auto sgd =
      optimizer_from_json({{"class_name", "SGD"}, {"config", {{"learning_rate", spec}}}}, "o");
  Tensor w{{1.0f}}, grad{{1.0f}};
  const std::vector<Variable> vars{{"w", &w, &grad}};
  CHECK(sgd->learning_rate() == 0.5f);
  sgd->apply(vars);  // step 0 and 1: 0.5 each, then 0.25
  sgd->apply(vars);
  CHECK(sgd->learning_rate() == 0.25f);
  sgd->apply(vars);
  CHECK(w(0, 0) == 1.0f - 0.5f - 0.5f - 0.25f);
  CHECK(sgd->get_config()["learning_rate"]["class_name"] == "PiecewiseConstantDecay");
}

TEST_CASE("schedule errors name the field") {
  CHECK_THROWS_WITH_AS(
      schedule_from_json({{"class_name", "ExponentialDecay"},
                          {"config", {{"initial_learning_rate", 0.1}, {"decay_rate", 0.5}}}},
                         "lr"),
      "lr.config.decay_steps: expected a number > 0 (required), got nothing", Error);
  CHECK_THROWS_WITH_AS(
      schedule_from_json({{"class_name", "PiecewiseConstantDecay"},
                          {"config", {{"boundaries", {1, 2}}, {"values", {0.5, 0.25}}}}},
                         "lr"),
      doctest::Contains("lr.config.values: expected one more value than boundaries (3)"), Error);
  CHECK_THROWS_WITH_AS(
      schedule_from_json({{"class_name", "StepDecay"}, {"config", json::object()}}, "lr"),
      doctest::Contains("lr.class_name: expected ExponentialDecay"), Error);
}
