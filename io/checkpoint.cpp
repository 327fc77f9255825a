#include "io/checkpoint.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "core/atomic_file.h"
#include "core/config_reader.h"
#include "io/model_file.h"

namespace normlab {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

static_assert(std::endian::native == std::endian::little,
              "optimizer.bin is little-endian float32, read and written in place");

const std::string kLatest = "latest";
const std::string kTraining = "training.json";
const std::string kOptimizer = "optimizer.bin";
const std::string kFormat = "normlab-checkpoint";
const std::string kPrefix = "step-";
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{1} << 30;  // training.json, optimizer.bin

std::string step_name(std::int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return name;
}

// JSON has no NaN or infinity: those are written as strings.
json number_json(double x) {
  if (std::isfinite(x)) return x;
  return std::isnan(x) ? "nan" : x > 0 ? "inf" : "-inf";
}

// ---- reading training.json: every field checked, every message naming its JSON path --------

[[noreturn]] void fail(const std::string& where, const std::string& expected, const json& got) {
  throw Error(where + ": expected " + expected + ", got " + describe_json(got));
}

const json& member(const json& object, const std::string& key, const std::string& where) {
  if (!object.is_object() || !object.contains(key)) throw Error(where + "." + key + ": missing");
  return object[key];
}

std::uint64_t unsigned_of(const json& value, const std::string& where) {
  if (!value.is_number_unsigned()) fail(where, "a non-negative integer", value);
  return value.get<std::uint64_t>();
}

std::uint64_t unsigned_at(const json& object, const std::string& key, const std::string& where) {
  return unsigned_of(member(object, key, where), where + "." + key);
}

double number_of(const json& value, const std::string& where) {
  if (value.is_number()) return value.get<double>();
  if (value == "nan") return std::nan("");
  if (value == "inf" || value == "-inf") return value == "inf" ? HUGE_VAL : -HUGE_VAL;
  fail(where, "a number (or \"nan\", \"inf\", \"-inf\")", value);
}

const json& array_at(const json& object, const std::string& key, const std::string& where,
                     std::size_t size = std::size_t(-1)) {
  const json& value = member(object, key, where);
  if (!value.is_array() || (size != std::size_t(-1) && value.size() != size))
    fail(where + "." + key,
         size == std::size_t(-1) ? "an array" : "an array of " + std::to_string(size), value);
  return value;
}

Rng::State rng_state_at(const json& object, const std::string& key, const std::string& where) {
  const json& values = array_at(object, key, where, std::tuple_size_v<Rng::State>);
  Rng::State s{};
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = unsigned_of(values[i], where + "." + key + "[" + std::to_string(i) + "]");
  return s;
}

std::vector<std::size_t> shape_of(const Tensor& t) {
  return {t.rows(), t.cols()};
}

json fit_to_json(const FitState& s) {
  json metrics = json::array();
  for (const auto& [correct, total] : s.metrics)
    metrics.push_back({number_json(correct), number_json(total)});
  json values = json::object();
  for (const auto& [key, series] : s.history.history) {
    json list = json::array();
    for (const float v : series) list.push_back(number_json(v));
    values[key] = std::move(list);
  }
  return {{"epoch", s.epoch},
          {"batch", s.batch},
          {"step", s.step},
          {"loss_sum", number_json(s.loss_sum)},
          {"rows", number_json(s.rows)},
          {"metrics", std::move(metrics)},
          {"history", {{"keys", s.history.keys}, {"values", std::move(values)}}},
          {"batcher",
           {{"epoch", s.batcher.epoch},
            {"next_batch", s.batcher.next_batch},
            {"order", s.batcher.order},
            {"rng", s.batcher.rng}}}};
}

FitState fit_from_json(const json& fit, const std::string& where) {
  FitState s;
  s.epoch = static_cast<int>(std::min<std::uint64_t>(unsigned_at(fit, "epoch", where), 1 << 30));
  s.batch = unsigned_at(fit, "batch", where);
  s.step = static_cast<std::int64_t>(unsigned_at(fit, "step", where));
  s.loss_sum = number_of(member(fit, "loss_sum", where), where + ".loss_sum");
  s.rows = number_of(member(fit, "rows", where), where + ".rows");
  const json& metrics = array_at(fit, "metrics", where);
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const std::string at = where + ".metrics[" + std::to_string(i) + "]";
    if (!metrics[i].is_array() || metrics[i].size() != 2) fail(at, "[correct, total]", metrics[i]);
    s.metrics.push_back(
        {number_of(metrics[i][0], at + "[0]"), number_of(metrics[i][1], at + "[1]")});
  }
  const std::string h = where + ".history";
  const json& history = member(fit, "history", where);
  const json& keys = array_at(history, "keys", h);
  const json& values = member(history, "values", h);
  if (!values.is_object() || values.size() != keys.size())
    fail(h + ".values", "an object with one array per key", values);
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (!keys[k].is_string()) fail(h + ".keys[" + std::to_string(k) + "]", "a name", keys[k]);
    const std::string key = keys[k].get<std::string>();
    const json& series = array_at(values, key, h + ".values", s.epoch);
    s.history.keys.push_back(key);
    auto& out = s.history.history[key];
    for (std::size_t e = 0; e < series.size(); ++e)
      out.push_back(static_cast<float>(
          number_of(series[e], h + ".values." + key + "[" + std::to_string(e) + "]")));
  }
  const std::string b = where + ".batcher";
  const json& batcher = member(fit, "batcher", where);
  s.batcher.epoch = unsigned_at(batcher, "epoch", b);
  s.batcher.next_batch = unsigned_at(batcher, "next_batch", b);
  const json& order = array_at(batcher, "order", b);
  s.batcher.order.reserve(order.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    s.batcher.order.push_back(unsigned_of(order[i], b + ".order[" + std::to_string(i) + "]"));
  s.batcher.rng = rng_state_at(batcher, "rng", b);
  return s;
}

// Removes every checkpoint in DIR other than `keep`, and what killed writers left behind.
void remove_others(const fs::path& dir, const std::string& keep) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool stale_latest = name.rfind(kLatest + ".tmp-", 0) == 0;
    if ((name.rfind(kPrefix, 0) == 0 && name != keep) || stale_latest)
      fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

fs::path save_checkpoint(Sequential& model, const FitState& fit, const fs::path& dir,
                         const json& run, const json& metadata) {
  check(model.compiled(), "save_checkpoint: the model is not compiled (no optimizer to save)");
  check(run.is_object(),
        "save_checkpoint: run must be a JSON object {...}, got " + describe_json(run));
  const std::string name = step_name(fit.step);
  const fs::path target = dir / name;
  if (latest_checkpoint(dir) == target) return target;

  Optimizer& optimizer = model.optimizer();
  json slots = json::array();
  std::vector<float> slot_data;
  for (const Variable& v : optimizer.slot_variables()) {
    slots.push_back({{"name", v.name}, {"shape", shape_of(*v.value)}});
    slot_data.insert(slot_data.end(), v.value->begin(), v.value->end());
  }
  const json training = {{"format", kFormat},
                         {"version", 1},
                         {"step", fit.step},
                         {"run", run},
                         {"model_rng", model.rng().state()},
                         {"optimizer",
                          {{"class_name", optimizer.class_name()},
                           {"iterations", optimizer.iterations()},
                           {"slots", std::move(slots)}}},
                         {"fit", fit_to_json(fit)}};

  // Everything goes into a directory of this process's own, renamed into place when complete.
  const fs::path tmp = temporary_path(dir / name);
  std::error_code ec;
  fs::remove_all(tmp, ec);
  save_model(model, tmp, metadata);
  write_file_atomically(tmp / kTraining, training.dump(1));
  write_file_atomically(tmp / kOptimizer, {reinterpret_cast<const char*>(slot_data.data()),
                                           slot_data.size() * sizeof(float)});
  fs::remove_all(target, ec);  // an incomplete earlier attempt at this step
  fs::rename(tmp, target, ec);
  check(!ec, tmp.string() + ": cannot rename it to " + target.string() + ": " + ec.message());
  sync_directory(dir);
  write_file_atomically(dir / kLatest, name + "\n");
  remove_others(dir, name);
  return target;
}

std::optional<fs::path> latest_checkpoint(const fs::path& dir) {
  const fs::path file = dir / kLatest;
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  std::string name = read_file(file, 64, "checkpoint names");
  if (!name.empty() && name.back() == '\n') name.pop_back();
  const bool valid = name.size() > kPrefix.size() && name.rfind(kPrefix, 0) == 0 &&
                     std::all_of(name.begin() + static_cast<std::ptrdiff_t>(kPrefix.size()),
                                 name.end(), [](char c) { return c >= '0' && c <= '9'; });
  check(valid, file.string() + ": expected the name of a checkpoint such as \"step-00000042\", " +
                   "got " + describe_json(name));
  check(fs::is_directory(dir / name, ec),
        file.string() + ": names " + name + ", which is not a folder in " + dir.string());
  return dir / name;
}

Checkpoint load_checkpoint(Sequential& model, const fs::path& dir) {
  check(model.compiled(),
        "load_checkpoint: the model is not compiled (its optimizer state "
        "is restored too)");
  const auto latest = latest_checkpoint(dir);
  check(latest.has_value(),
        dir.string() + ": no checkpoint (" + (dir / kLatest).string() + " is missing)");
  Checkpoint c;
  c.path = *latest;
  const fs::path file = c.path / kTraining;
  json training;
  try {
    training = json::parse(read_file(file, kMaxFileBytes, "checkpoint files"), depth_limit());
  } catch (const json::exception& e) {  // a syntax error, or a number beyond double's range
    throw Error(file.string() + ": not valid JSON (a damaged checkpoint?): " + e.what());
  } catch (const Error& e) {  // nested too deep
    throw Error(file.string() + ": " + e.what());
  }
  Optimizer& optimizer = model.optimizer();
  std::vector<Variable> slots;
  std::vector<float> slot_data;
  Rng::State model_rng{};
  std::int64_t iterations = 0;
  try {
    if (member(training, "format", "") != kFormat)
      fail("format", "\"" + kFormat + "\"", training["format"]);
    if (unsigned_at(training, "version", "") != 1)
      fail("version", "1 (the version this normlab writes)", training["version"]);
    c.step = static_cast<std::int64_t>(unsigned_at(training, "step", ""));
    c.run = member(training, "run", "");
    model_rng = rng_state_at(training, "model_rng", "");
    const json& opt = member(training, "optimizer", "");
    const std::string class_name = optimizer.class_name();
    if (member(opt, "class_name", "optimizer") != class_name)
      fail("optimizer.class_name", "\"" + class_name + "\" (the model's optimizer)",
           opt["class_name"]);
    iterations = static_cast<std::int64_t>(unsigned_at(opt, "iterations", "optimizer"));
    // The model's optimizer makes its slots as its first step would, then checks them against
    // the saved ones, name by name and shape by shape.
    optimizer.build_slots(model.trainable_variables());
    slots = optimizer.slot_variables();
    const json& saved = array_at(opt, "slots", "optimizer", slots.size());
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const std::string at = "optimizer.slots[" + std::to_string(i) + "]";
      const json expected = {{"name", slots[i].name}, {"shape", shape_of(*slots[i].value)}};
      if (saved[i] != expected) fail(at, expected.dump(), saved[i]);
    }
    c.fit = fit_from_json(member(training, "fit", ""), "fit");
    if (c.fit.step != c.step)
      fail("fit.step", std::to_string(c.step) + " (the checkpoint's step)", c.fit.step);
  } catch (const Error& e) {
    const std::string what = e.what();
    throw Error(file.string() + ": " + (what[0] == '.' ? what.substr(1) : what));
  }
  const fs::path bin = c.path / kOptimizer;
  std::size_t floats = 0;
  for (const auto& v : slots) floats += v.value->size();
  const std::string bytes = read_file(bin, kMaxFileBytes, "checkpoint files");
  check(bytes.size() == floats * sizeof(float),
        bin.string() + ": " + std::to_string(bytes.size()) + " bytes, but " + kTraining +
            " lists " + std::to_string(floats) + " float32 slot values (" +
            std::to_string(floats * sizeof(float)) + " bytes)");

  load_weights(model, c.path);  // checks every weight before it copies any
  c.metadata = read_model_info(c.path).metadata;
  const char* in = bytes.data();
  for (const auto& v : slots) {
    std::copy_n(in, v.value->size() * sizeof(float), reinterpret_cast<char*>(v.value->data()));
    in += v.value->size() * sizeof(float);
  }
  optimizer.set_iterations(iterations);
  model.rng().set_state(model_rng);
  return c;
}

}  // namespace normlab
