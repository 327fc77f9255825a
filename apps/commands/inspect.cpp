// normlab inspect: what a saved model is (summary, training settings, columns) and every
// BatchNormalization layer's gamma, beta, moving_mean and moving_variance in full. With --data,
// also each layer's moving statistics against the population statistics of that data
// (model/bn_diagnostics.h) and the loss and metrics of the data in training and inference mode.
#include <cmath>
#include <cstdio>
#include <map>

#include "apps/commands/commands.h"
#include "apps/commands/saved_model.h"
#include "apps/report.h"
#include "core/blas.h"
#include "core/config_reader.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/text.h"
#include "model/bn_diagnostics.h"

namespace normlab {

namespace {

std::string number(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// userDefinedMetadata.batch_norm_updates: {"<layer>": t, ...}, as `normlab train` saves it.
std::map<std::string, double> recorded_updates(const SavedModel& saved) {
  std::map<std::string, double> counts;
  const auto it = saved.info.metadata.find(kBatchNormUpdatesKey);
  if (it == saved.info.metadata.end()) return counts;
  const std::string where = saved.dir + "/model.json: userDefinedMetadata." + kBatchNormUpdatesKey;
  check(it->is_object(),
        where + ": expected {\"<layer name>\": updates, ...}, got " + describe_json(*it));
  for (const auto& [name, t] : it->items()) {
    check(t.is_number() && t.get<double>() >= 0.0,
          where + "." + name + ": expected a count >= 0, got " + describe_json(t));
    counts[name] = t.get<double>();
  }
  return counts;
}

std::string layer_report(const BatchNormDiagnostics& d) {
  std::string out = d.name + " (layer " + std::to_string(d.index) + ", " + d.averaging +
                    " average, momentum " + number("%.4f", d.momentum) + ")\n";
  out += "  updates t: " + (d.updates ? number("%.0f", *d.updates) : std::string("unknown"));
  out += " - weight of the initial values: " +
         (d.initial_weight ? number("%.4g", *d.initial_weight) : std::string("unknown"));
  out += " - effective window: " + (d.effective_window
                                        ? number("%.1f", *d.effective_window) + " batches"
                                        : std::string("unknown"));
  out +=
      "\n  channel  moving_mean  population_mean          gap  moving_variance  "
      "population_variance          gap\n";
  double worst_mean = 0.0, worst_var = 0.0;
  for (std::size_t j = 0; j < d.moving_mean.size(); ++j) {
    const double gm = d.moving_mean[j] - d.population_mean[j];
    const double gv = d.moving_variance[j] - d.population_variance[j];
    worst_mean = std::max(worst_mean, std::abs(gm));
    worst_var = std::max(worst_var, std::abs(gv));
    out += number("  %7.0f", static_cast<double>(j)) + number("  %11.4f", d.moving_mean[j]) +
           number("  %15.4f", d.population_mean[j]) + number("  %11.4f", gm) +
           number("  %15.4f", d.moving_variance[j]) + number("  %19.4f", d.population_variance[j]) +
           number("  %11.4f", gv) + "\n";
  }
  out += "  largest |gap|: mean " + number("%.4f", worst_mean) + ", variance " +
         number("%.4f", worst_var) + "\n";
  return out;
}

std::string logs_line(const char* label, const Logs& logs) {
  std::string out = label;
  for (const auto& [name, value] : logs) out += " - " + name + ": " + number("%.4f", value);
  return out + "\n";
}

void print_data_report(SavedModel& saved, const InspectOptions& o) {
  const auto labels = label_columns_in(saved, o.data);
  const Dataset data = read_model_input(saved, o.data, labels);
  const auto diagnostics = batchnorm_diagnostics(saved.model, data.x, recorded_updates(saved));
  std::printf(
      "\nMoving statistics against the population statistics of %s (%zu rows; each "
      "layer's input in inference mode; gap = moving - population):\n",
      o.data.c_str(), data.size());
  const auto recalibrated = saved.info.metadata.find("batch_norm_recalibrated");
  if (recalibrated != saved.info.metadata.end())
    std::printf("(recalibrated with `normlab recalibrate`: %s)\n", recalibrated->dump().c_str());
  for (const auto& d : diagnostics) std::printf("%s", layer_report(d).c_str());
  if (diagnostics.empty()) std::printf("No BatchNormalization layers.\n");

  if (!saved.model.compiled() || labels.size() != saved.label_columns.size() || labels.empty()) {
    std::printf(
        "\nNo training/inference comparison: it needs a compiled model and the label "
        "columns %s in %s.\n",
        join(saved.label_columns).c_str(), o.data.c_str());
    return;
  }
  const ModeComparison modes = compare_modes(saved.model, data.x, data.y, o.batch_size);
  std::printf("\nThe same batches in both modes (%s in order, batch size %zu):\n%s%s",
              o.data.c_str(), o.batch_size,
              logs_line("training mode  (batch statistics) ", modes.training).c_str(),
              logs_line("inference mode (moving statistics)", modes.inference).c_str());
}

}  // namespace

int run_inspect(const InspectOptions& o) {
  set_num_threads(o.threads);
  SavedModel saved = open_saved_model(o.model_dir);
  std::printf("%s: saved by %s\n\n%s\n", o.model_dir.c_str(), saved.info.generated_by.c_str(),
              saved.model.summary().c_str());
  if (!saved.info.training_config.is_null())
    std::printf("Training config: %s\n", saved.info.training_config.dump().c_str());
  if (!saved.feature_columns.empty())
    std::printf("Feature columns: %s\n", join(saved.feature_columns).c_str());
  if (!saved.label_columns.empty())
    std::printf("Label columns: %s\n", join(saved.label_columns).c_str());
  const std::string bn = batch_norm_report(saved.model, true);
  std::printf("\n%s", bn.empty() ? "No BatchNormalization layers.\n" : bn.c_str());
  if (!o.data.empty()) print_data_report(saved, o);
  std::printf("\n%s\n", gemm_summary().c_str());
  return 0;
}

}  // namespace normlab
