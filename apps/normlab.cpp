// normlab: train, evaluate, run and inspect models from the command line.
//
//   normlab train [CONFIG.json] [--out DIR] [--epochs N] [--seed S] [--verbose 0|1|2]
//                 [--checkpoint DIR [--checkpoint-every N] [--resume]]
//   normlab evaluate MODEL_DIR --data FILE.csv
//   normlab predict MODEL_DIR --input FILE.csv [--output FILE.csv]
//   normlab inspect MODEL_DIR [--data FILE.csv [--batch-size N]]
//   normlab recalibrate MODEL_DIR --data FILE.csv [--batches N] [--batch-size N] [--out DIR]
//   normlab export MODEL_DIR (--fold-bn | --unfold) --out DIR
//
// Exit status: 0 on success; 2 when a config, data or model file is wrong or training stops on a
// non-finite loss (the message goes to standard error as "normlab: error: <message>"); 130 when
// Ctrl-C stopped a checkpointed training; CLI11's own status for a malformed command line; 1 for
// anything unexpected.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <limits>

#include "apps/commands/commands.h"
#include "core/blas.h"
#include "core/communicator.h"
#include "core/error.h"
#include "core/version.h"

using namespace normlab;

namespace {

// --threads, and --blas into `blas` (one string for every command).
void add_compute_options(CLI::App& command, int& threads, std::string& blas) {
  command
      .add_option(
          "--threads", threads,
          "threads to split products and passes over; runs repeat bit for bit at a given count")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command.add_option("--blas", blas,
                     "GEMM backend for the products: openblas, onednn (when built) or auto, the "
                     "fastest correct one a probe finds; default: NORMLAB_BLAS, else auto");
}

void add_batch_size(CLI::App& command, std::size_t& batch_size) {
  command.add_option("--batch-size", batch_size, "Rows per inference batch")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  // Under mpirun (a build with MPI) every process runs this program and MPI starts here; the
  // first process alone prints (docs/distributed.md).
  World processes(argc, argv);
  if (processes.communicator().rank() != 0) std::freopen("/dev/null", "w", stdout);
  CLI::App app{"normlab: train and use small Keras-style models, BatchNormalization done right"};
  // The version, and which GEMM this machine runs (the probe runs for it: NORMLAB_BLAS applies).
  app.set_version_flag("--version", [] {
    return std::string("normlab ") + normlab::version() + "\n" + gemm_summary();
  });
  app.require_subcommand(1);
  app.footer(
      "Run 'normlab COMMAND --help' for a command's options; docs/config.md describes the "
      "training config.");

  std::string blas;
  TrainOptions train;
  CLI::App* train_cmd = app.add_subcommand(
      "train", "Train the model a JSON config describes and save it (no config: Example 3)");
  train_cmd->add_option("CONFIG", train.config,
                        "Training config (JSON, docs/config.md); default: the built-in "
                        "imbalanced-classes example, configs/imbalanced.json");
  train_cmd->add_option("-o,--out", train.out, "Folder to write the trained model to")
      ->capture_default_str();
  // Options that replace a config value only when given: count() tells.
  int epochs = 0, verbose = 1;
  std::uint64_t seed = 0;
  CLI::Option* epochs_opt =
      train_cmd->add_option("--epochs", epochs, "Epochs, replacing the config's fit.epochs")
          ->check(CLI::Range(0, 1 << 30));
  CLI::Option* seed_opt = train_cmd->add_option(
      "--seed", seed, "Seed of the initial weights and the shuffling, replacing fit.seed");
  seed_opt->check(CLI::Range(std::int64_t{0}, std::numeric_limits<std::int64_t>::max()));
  CLI::Option* verbose_opt =
      train_cmd
          ->add_option("-v,--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch")
          ->check(CLI::Range(0, 2));
  add_compute_options(*train_cmd, train.threads, blas);
  train_cmd->add_option("--log-csv", train.log_csv,
                        "Write one row per epoch (loss, metrics, val_*) to this CSV file");
  train_cmd->add_option("--log-steps", train.log_steps,
                        "Write one row per step (batch loss, every BatchNormalization layer's "
                        "moving mean and variance) to this CSV file");
  CLI::Option* checkpoint_opt = train_cmd->add_option(
      "--checkpoint", train.checkpoint,
      "Keep a checkpoint of the training (model, optimizer, random and data state) in this "
      "folder; Ctrl-C then saves one and stops");
  train_cmd
      ->add_option("--checkpoint-every", train.checkpoint_every,
                   "Steps between checkpoints (0: at the end of every epoch)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40))
      ->needs(checkpoint_opt)
      ->capture_default_str();
  train_cmd
      ->add_flag("--resume", train.resume,
                 "Continue from the checkpoint in the --checkpoint folder (from the start if it "
                 "holds none yet)")
      ->needs(checkpoint_opt);

  EvaluateOptions evaluate;
  CLI::App* evaluate_cmd =
      app.add_subcommand("evaluate", "Loss and metrics of a saved model on a CSV file");
  evaluate_cmd->add_option("MODEL_DIR", evaluate.model_dir, "Saved model folder")->required();
  evaluate_cmd->add_option("-d,--data", evaluate.data, "CSV file with features and labels")
      ->required();
  evaluate_cmd
      ->add_option("--label-columns", evaluate.label_columns,
                   "Label columns (default: those the model was trained with)")
      ->delimiter(',');
  add_batch_size(*evaluate_cmd, evaluate.batch_size);
  add_compute_options(*evaluate_cmd, evaluate.threads, blas);

  PredictOptions predict;
  CLI::App* predict_cmd =
      app.add_subcommand("predict", "Outputs of a saved model (inference mode) for a CSV file");
  predict_cmd->add_option("MODEL_DIR", predict.model_dir, "Saved model folder")->required();
  predict_cmd
      ->add_option("-i,--input", predict.input,
                   "CSV file of features (the model's label columns, if present, are skipped)")
      ->required();
  predict_cmd->add_option("-o,--output", predict.output,
                          "CSV file to write (default: standard output)");
  add_batch_size(*predict_cmd, predict.batch_size);
  add_compute_options(*predict_cmd, predict.threads, blas);

  InspectOptions inspect;
  CLI::App* inspect_cmd = app.add_subcommand(
      "inspect", "Summary of a saved model and every BatchNormalization layer's weights");
  inspect_cmd->add_option("MODEL_DIR", inspect.model_dir, "Saved model folder")->required();
  inspect_cmd->add_option(
      "-d,--data", inspect.data,
      "CSV file: also compare each BatchNormalization layer's moving statistics with the "
      "population statistics of this data, and its loss in training and inference mode");
  inspect_cmd
      ->add_option("--batch-size", inspect.batch_size,
                   "Rows per batch of the training-mode evaluation (use the fit's batch size)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
  add_compute_options(*inspect_cmd, inspect.threads, blas);

  RecalibrateCommandOptions recalibrate;
  CLI::App* recalibrate_cmd = app.add_subcommand(
      "recalibrate",
      "Set every BatchNormalization layer's moving statistics to the exact population "
      "statistics of its input over a CSV file (PreciseBN) and save the model");
  recalibrate_cmd->add_option("MODEL_DIR", recalibrate.model_dir, "Saved model folder")->required();
  recalibrate_cmd
      ->add_option("-d,--data", recalibrate.data,
                   "CSV file of inputs (the model's label columns, if present, are skipped)")
      ->required();
  recalibrate_cmd
      ->add_option("--batches", recalibrate.batches,
                   "Use only the first N batches of the data (0: every row)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 30))
      ->capture_default_str();
  recalibrate_cmd
      ->add_option("--batch-size", recalibrate.batch_size,
                   "Rows per forward pass; the statistics do not depend on it")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
  recalibrate_cmd->add_option("-o,--out", recalibrate.out,
                              "Folder to write the model to (default: MODEL_DIR, replaced)");
  add_compute_options(*recalibrate_cmd, recalibrate.threads, blas);

  ExportOptions export_options;
  CLI::App* export_cmd = app.add_subcommand(
      "export", "Write a saved model in another form: BatchNormalization folded or unfolded");
  export_cmd->add_option("MODEL_DIR", export_options.model_dir, "Saved model folder")->required();
  export_cmd->add_option("-o,--out", export_options.out, "Folder to write the model to")
      ->required();
  CLI::Option* fold_opt = export_cmd->add_flag(
      "--fold-bn", export_options.fold_bn,
      "Fold every Dense -> BatchNormalization pair into one Dense (TensorFlow.js loads it); "
      "the original weights are kept in the metadata");
  export_cmd
      ->add_flag("--unfold", export_options.unfold,
                 "Restore the model --fold-bn was given, bit for bit")
      ->excludes(fold_opt);

  try {
    app.parse(argc, argv);
    if (epochs_opt->count()) train.epochs = epochs;
    if (seed_opt->count()) train.seed = seed;
    if (verbose_opt->count()) train.verbose = verbose;
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  // Under mpirun, a process that fails ends the others, which would wait for it forever.
  const auto failed = [&processes](int code) {
    std::fflush(stderr);
    processes.communicator().abort(code);
    return code;
  };
  try {
    if (!blas.empty()) select_gemm_backend(blas, "--blas");
    train.communicator = &processes.communicator();
    if (*train_cmd) return run_train(train);
    if (*evaluate_cmd) return run_evaluate(evaluate);
    if (*predict_cmd) return run_predict(predict);
    if (*recalibrate_cmd) return run_recalibrate(recalibrate);
    if (*export_cmd) return run_export(export_options);
    return run_inspect(inspect);
  } catch (const Error& e) {
    std::fprintf(stderr, "normlab: error: %s\n", e.what());
    return failed(2);
  } catch (const std::filesystem::filesystem_error& e) {
    std::fprintf(stderr, "normlab: error: %s\n", e.what());
    return failed(2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "normlab: unexpected error: %s\n", e.what());
    return failed(1);
  }
}
