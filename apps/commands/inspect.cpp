// normlab inspect: what a saved model is (summary, training settings, columns) and every
// BatchNormalization layer's gamma, beta, moving_mean and moving_variance in full.
#include <cstdio>

#include "apps/commands/commands.h"
#include "apps/commands/saved_model.h"
#include "apps/report.h"

namespace normlab {

int run_inspect(const InspectOptions& o) {
  SavedModel saved = open_saved_model(o.model_dir);
  std::printf("%s: saved by %s\n\n%s\n", o.model_dir.c_str(), saved.info.generated_by.c_str(),
              saved.model.summary().c_str());
  if (!saved.info.training_config.is_null())
    std::printf("Training config: %s\n", saved.info.training_config.dump().c_str());
  if (!saved.feature_columns.empty())
    std::printf("Feature columns: %s\n", join_names(saved.feature_columns).c_str());
  if (!saved.label_columns.empty())
    std::printf("Label columns: %s\n", join_names(saved.label_columns).c_str());
  const std::string bn = batch_norm_report(saved.model, true);
  std::printf("\n%s", bn.empty() ? "No BatchNormalization layers.\n" : bn.c_str());
  return 0;
}

}  // namespace normlab
