// normlab train: load the config, show the model, fit it with a progress display, evaluate it,
// show every BatchNormalization layer's moving statistics and save it. With --checkpoint, keep
// a checkpoint of the training that --resume continues, and let Ctrl-C stop at a checkpoint.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "apps/commands/commands.h"
#include "apps/report.h"
#include "core/blas.h"
#include "core/parallel.h"
#include "io/checkpoint.h"
#include "io/model_file.h"
#include "io/train_config.h"
#include "model/bn_diagnostics.h"
#include "model/csv_logger.h"
#include "model/step_logger.h"

namespace normlab {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

// The first Ctrl-C asks for a checkpoint at the end of the current step; SA_RESETHAND makes a
// second one end the program at once.
extern "C" void on_interrupt(int) {
  g_interrupted = 1;
}

void catch_interrupt() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, nullptr);
}

// What a checkpoint and the run resuming it must agree on: the data and how they are batched.
nlohmann::json run_settings(const TrainConfig& cfg) {
  return {{"train_rows", cfg.train.size()},
          {"validation_rows", cfg.validation ? cfg.validation->size() : 0},
          {"batch_size", cfg.fit.batch_size},
          {"steps_per_epoch", cfg.fit.steps_per_epoch},
          {"shuffle", cfg.fit.shuffle}};
}

// With --resume and a checkpoint in the folder: the checkpoint, restored into the model. Without
// --resume, a folder already holding a checkpoint is refused, so that a fresh run never
// replaces it by mistake.
// The backend of the products changes their last bits: a resumed run continues on the one the
// checkpoint was taken with unless one is named (--blas, NORMLAB_BLAS); a different named one is
// said on standard error.
std::optional<Checkpoint> restore_checkpoint(TrainConfig& cfg, const TrainOptions& o,
                                             const nlohmann::json& run) {
  const auto latest = latest_checkpoint(o.checkpoint);
  if (!latest) return std::nullopt;
  if (!o.resume)
    throw Error(o.checkpoint + ": holds a checkpoint (" + latest->string() +
                "); add --resume to continue it, or choose another folder to start over");
  Checkpoint c = load_checkpoint(cfg.model, o.checkpoint);
  for (const auto& [key, value] : run.items())
    check(c.run.value(key, nlohmann::json()) == value,
          (c.path / "training.json").string() + ": run." + key + " is " +
              c.run.value(key, nlohmann::json()).dump() + ", but this run has " + value.dump() +
              "; resume with the config the checkpoint was taken with");
  const std::string taken = c.run.value("gemm", std::string());
  const std::string run_file = (c.path / "training.json").string();
  if (!taken.empty() && gemm_selection().automatic)
    select_gemm_backend(taken, run_file + " (run.gemm)");
  const std::string running = gemm_selection().running().name;
  if (!taken.empty() && taken != running)
    std::fprintf(stderr,
                 "normlab: note: %s: the checkpoint was taken with the GEMM backend %s, this run "
                 "uses %s: it continues, not bit for bit (--blas %s would)\n",
                 run_file.c_str(), taken.c_str(), running.c_str(), taken.c_str());
  return c;
}

// The config's TerminateOnNaN, or one added first: normlab train always stops on a NaN loss.
TerminateOnNaN& terminate_on_nan(TrainConfig& cfg) {
  for (const auto& c : cfg.callbacks)
    if (auto* t = dynamic_cast<TerminateOnNaN*>(c.get())) return *t;
  cfg.callbacks.insert(cfg.callbacks.begin(), std::make_unique<TerminateOnNaN>());
  return static_cast<TerminateOnNaN&>(*cfg.callbacks.front());
}

}  // namespace

int run_train(const TrainOptions& o) {
  set_num_threads(o.threads);
  const TrainOverrides overrides{o.epochs, o.seed, o.verbose};
  TrainConfig cfg =
      o.config.empty()
          ? parse_train_config(kDefaultConfig, /*base_dir=*/"",
                               std::string("built-in default (") + kDefaultConfigName + ")",
                               overrides)
          : load_train_config(o.config, overrides);
  // Under mpirun every process trains its shard of each batch (docs/distributed.md); only the
  // first writes files (its standard output alone is shown: apps/normlab.cpp).
  cfg.model.set_communicator(*o.communicator);
  const bool writes_files = o.communicator->rank() == 0;
  if (!writes_files)  // the config's loggers write files; callbacks that act on the model stay
    std::erase_if(cfg.callbacks, [](const std::unique_ptr<Callback>& c) {
      return dynamic_cast<CSVLogger*>(c.get()) || dynamic_cast<StepLogger*>(c.get());
    });
  if (!o.log_csv.empty() && writes_files)
    cfg.callbacks.push_back(std::make_unique<CSVLogger>(o.log_csv));
  if (!o.log_steps.empty() && writes_files)
    cfg.callbacks.push_back(std::make_unique<StepLogger>(o.log_steps));
  const TerminateOnNaN& nan_stop = terminate_on_nan(cfg);
  nlohmann::json run = run_settings(cfg);
  std::optional<Checkpoint> checkpoint;
  std::optional<CheckpointLock> lock;
  if (!o.checkpoint.empty()) {
    if (writes_files) lock.emplace(o.checkpoint);
    checkpoint = restore_checkpoint(cfg, o, run);
  }
  // Counts each BatchNormalization layer's updates for `normlab inspect` (model/bn_diagnostics.h),
  // on from the checkpoint's counts; the checkpoints keep them, so it runs before the writer.
  auto counter = std::make_unique<BatchNormUpdateCounter>(
      checkpoint ? checkpoint->metadata.value(kBatchNormUpdatesKey, std::map<std::string, double>{})
                 : std::map<std::string, double>{});
  const BatchNormUpdateCounter& bn_updates = *counter;
  cfg.callbacks.push_back(std::move(counter));
  const auto update_counts = [&bn_updates] {
    return nlohmann::json{{kBatchNormUpdatesKey, bn_updates.counts()}};
  };
  run["gemm"] = gemm_selection().running().name;  // after the checkpoint's, if resumed
  if (!o.checkpoint.empty() && writes_files)      // one writer under mpirun
    cfg.callbacks.push_back(std::make_unique<CheckpointWriter>(o.checkpoint, o.checkpoint_every,
                                                               run, &g_interrupted, update_counts));

  std::printf("Config: %s\n", cfg.source.c_str());
  if (!cfg.description.empty()) std::printf("%s\n", cfg.description.c_str());
  std::printf("\n%s\n", cfg.model.summary().c_str());
  const FitOptions& fit = cfg.fit;
  std::printf("Training on %zu rows", cfg.train.size());
  if (cfg.validation) std::printf(", validating on %zu", cfg.validation->size());
  std::printf(": %d epochs, batch size %zu, seed %llu, %d thread%s\n", fit.epochs, fit.batch_size,
              static_cast<unsigned long long>(fit.seed), o.threads, o.threads == 1 ? "" : "s");
  std::printf("%s\n", gemm_summary().c_str());
  if (!o.checkpoint.empty()) {
    if (o.checkpoint_every > 0)
      std::printf("Checkpoint every %lld step%s in %s\n",
                  static_cast<long long>(o.checkpoint_every), o.checkpoint_every == 1 ? "" : "s",
                  o.checkpoint.c_str());
    else
      std::printf("Checkpoint after every epoch in %s\n", o.checkpoint.c_str());
    if (checkpoint)
      std::printf("Resuming from %s: epoch %d/%d, %zu batches of it done (step %lld)\n",
                  checkpoint->path.string().c_str(), checkpoint->fit.epoch + 1, fit.epochs,
                  checkpoint->fit.batch, static_cast<long long>(checkpoint->step));
    else if (o.resume)
      std::printf("No checkpoint in %s yet: training from the start\n", o.checkpoint.c_str());
    catch_interrupt();
  }
  std::fflush(stdout);

  FitOptions options = cfg.fit_options();
  if (checkpoint) options.resume_from = std::move(checkpoint->fit);
  try {
    cfg.model.fit(cfg.train, std::move(options));
  } catch (const TrainingInterrupted& stop) {
    std::fflush(stdout);
    std::fprintf(stderr,
                 "\nnormlab: interrupted: checkpoint of step %lld written to %s\n"
                 "To continue, run the same command with --resume (normlab train %s--checkpoint "
                 "%s --resume)\n",
                 static_cast<long long>(stop.step()), stop.checkpoint().string().c_str(),
                 o.config.empty() ? "" : (o.config + " ").c_str(), o.checkpoint.c_str());
    return 130;
  }
  if (!o.checkpoint.empty()) signal(SIGINT, SIG_DFL);  // training is over: Ctrl-C ends at once
  if (nan_stop.stopped()) {
    std::fflush(stdout);
    const auto last = o.checkpoint.empty() ? std::nullopt : latest_checkpoint(o.checkpoint);
    throw Error("training stopped: " + nan_stop.message() + "; no model written" +
                (last                   ? "; the last good checkpoint is " + last->string()
                 : o.checkpoint.empty() ? ""
                                        : "; no checkpoint was written"));
  }

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
  metadata.update(update_counts());
  if (writes_files) save_model(cfg.model, o.out, metadata);
  std::printf("\nModel written to %s\n", std::filesystem::absolute(o.out).string().c_str());
  return 0;
}

}  // namespace normlab
