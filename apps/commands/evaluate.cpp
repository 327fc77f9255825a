// normlab evaluate: the loss and metrics of a saved model on a CSV file, in inference mode.
#include <cstdio>

#include "apps/commands/commands.h"
#include "apps/commands/saved_model.h"
#include "apps/report.h"
#include "core/error.h"
#include "core/parallel.h"
#include "model/losses.h"

namespace normlab {

int run_evaluate(const EvaluateOptions& o) {
  set_num_threads(o.threads);
  SavedModel saved = open_saved_model(o.model_dir);
  check(saved.model.compiled(), o.model_dir +
                                    ": the model was saved without a loss (no trainingConfig in "
                                    "model.json), so there is nothing to evaluate it with");
  const auto& labels = o.label_columns.empty() ? saved.label_columns : o.label_columns;
  check(!labels.empty(), o.model_dir +
                             ": the model does not record its label columns; name them with "
                             "--label-columns");
  CsvOrigin origin;
  const Dataset data = read_model_input(saved, o.data, labels, &origin);
  try {
    saved.model.loss().check_targets(data.y, saved.model.output_dim());
  } catch (const TargetError& e) {
    throw Error(origin.label_cell(e.row(), e.column()) + ": " + e.unplaced());
  }
  std::printf("Evaluation of %s on %s (%zu rows, inference mode):\n%s", o.model_dir.c_str(),
              o.data.c_str(), data.size(),
              evaluation_report(saved.model, data, o.batch_size).c_str());
  return 0;
}

}  // namespace normlab
