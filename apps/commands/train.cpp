// normlab train: load the config, show the model, fit it with a progress display, evaluate it,
// show every BatchNormalization layer's moving statistics and save it.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "apps/commands/commands.h"
#include "apps/report.h"
#include "core/blas.h"
#include "io/model_file.h"
#include "io/train_config.h"
#include "model/csv_logger.h"
#include "model/step_logger.h"

namespace normlab {

int run_train(const TrainOptions& o) {
  set_blas_threads(o.threads);
  const TrainOverrides overrides{o.epochs, o.seed, o.verbose};
  TrainConfig cfg =
      o.config.empty()
          ? parse_train_config(kDefaultConfig, /*base_dir=*/"",
                               std::string("built-in default (") + kDefaultConfigName + ")",
                               overrides)
          : load_train_config(o.config, overrides);
  if (!o.log_csv.empty()) cfg.callbacks.push_back(std::make_unique<CSVLogger>(o.log_csv));
  if (!o.log_steps.empty()) cfg.callbacks.push_back(std::make_unique<StepLogger>(o.log_steps));

  std::printf("Config: %s\n", cfg.source.c_str());
  if (!cfg.description.empty()) std::printf("%s\n", cfg.description.c_str());
  std::printf("\n%s\n", cfg.model.summary().c_str());
  const FitOptions& fit = cfg.fit;
  std::printf("Training on %zu rows", cfg.train.size());
  if (cfg.validation) std::printf(", validating on %zu", cfg.validation->size());
  std::printf(": %d epochs, batch size %zu, seed %llu, %d BLAS thread%s\n", fit.epochs,
              fit.batch_size, static_cast<unsigned long long>(fit.seed), o.threads,
              o.threads == 1 ? "" : "s");
  std::fflush(stdout);

  cfg.model.fit(cfg.train, cfg.fit_options());

  const bool on_validation = cfg.validation.has_value();
  const Dataset& eval = on_validation ? *cfg.validation : cfg.train;
  std::printf("\nEvaluation on the %s data (%zu rows, inference mode):\n%s",
              on_validation ? "validation" : "training", eval.size(),
              evaluation_report(cfg.model, eval, fit.batch_size).c_str());
  const std::string bn = batch_norm_report(cfg.model, false);
  if (!bn.empty()) std::printf("\nBatchNormalization state after training:\n%s", bn.c_str());

  nlohmann::json metadata = {{"feature_columns", cfg.feature_columns},
                             {"label_columns", cfg.label_columns},
                             {"trained_from", cfg.source}};
  save_model(cfg.model, o.out, metadata);
  std::printf("\nModel written to %s\n", std::filesystem::absolute(o.out).string().c_str());
  return 0;
}

}  // namespace normlab
