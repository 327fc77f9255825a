// normlab recalibrate: sets every BatchNormalization layer's moving statistics to the exact
// population statistics of its input over a CSV file (model/precise_bn.h) and saves the model.
#include <algorithm>
#include <cstdio>

#include "apps/commands/commands.h"
#include "apps/commands/saved_model.h"
#include "apps/report.h"
#include "core/parallel.h"
#include "model/bn_diagnostics.h"
#include "model/precise_bn.h"

namespace normlab {

int run_recalibrate(const RecalibrateCommandOptions& o) {
  set_num_threads(o.threads);
  SavedModel saved = open_saved_model(o.model_dir);
  const Dataset data = read_model_input(saved, o.data, label_columns_in(saved, o.data));
  recalibrate_batchnorm(saved.model, data.x, {.batch_size = o.batch_size, .batches = o.batches});
  const std::string out = o.out.empty() ? o.model_dir : o.out;
  const std::size_t rows =
      o.batches == 0 ? data.size() : std::min(data.size(), o.batches * o.batch_size);
  // The statistics are no longer moving averages: the update counts no longer describe them.
  nlohmann::json metadata = saved.info.metadata;
  metadata.erase(kBatchNormUpdatesKey);
  metadata["batch_norm_recalibrated"] = {{"data", o.data}, {"rows", rows}};
  if (!saved.info.folded.is_null()) metadata["normlab"] = {{"folded", saved.info.folded}};
  save_model(saved.model, out, metadata);
  const std::string bn = batch_norm_report(saved.model, false);
  std::printf("Recalibrated on %zu rows of %s (batches of %zu, inference-mode inputs):\n%s", rows,
              o.data.c_str(), o.batch_size,
              bn.empty() ? "No BatchNormalization layers: nothing changed.\n" : bn.c_str());
  std::printf("Model written to %s\n", out.c_str());
  return 0;
}

}  // namespace normlab
