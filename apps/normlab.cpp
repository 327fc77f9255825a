// normlab: train, evaluate, run and inspect models from the command line.
//
//   normlab train [CONFIG.json] [--out DIR] [--epochs N] [--seed S] [--verbose 0|1|2]
//   normlab evaluate MODEL_DIR --data FILE.csv
//   normlab predict MODEL_DIR --input FILE.csv [--output FILE.csv]
//   normlab inspect MODEL_DIR
//
// Exit status: 0 on success; 2 when a config, data or model file is wrong (the message goes to
// standard error as "normlab: error: <message>"); CLI11's own status for a malformed command
// line; 1 for anything unexpected.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <limits>

#include "apps/commands/commands.h"
#include "core/error.h"
#include "core/version.h"

using namespace normlab;

namespace {

void add_threads(CLI::App& command, int& threads) {
  command.add_option("--threads", threads, "OpenBLAS threads; 1 gives bit-reproducible runs")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
}

void add_batch_size(CLI::App& command, std::size_t& batch_size) {
  command.add_option("--batch-size", batch_size, "Rows per inference batch")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"normlab: train and use small Keras-style models, BatchNormalization done right"};
  app.set_version_flag("--version", std::string("normlab ") + normlab::version());
  app.require_subcommand(1);
  app.footer(
      "Run 'normlab COMMAND --help' for a command's options; docs/config.md describes the "
      "training config.");

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
  add_threads(*train_cmd, train.threads);
  train_cmd->add_option("--log-csv", train.log_csv,
                        "Write one row per epoch (loss, metrics, val_*) to this CSV file");
  train_cmd->add_option("--log-steps", train.log_steps,
                        "Write one row per step (batch loss, every BatchNormalization layer's "
                        "moving mean and variance) to this CSV file");

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
  add_threads(*evaluate_cmd, evaluate.threads);

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
  add_threads(*predict_cmd, predict.threads);

  InspectOptions inspect;
  CLI::App* inspect_cmd = app.add_subcommand(
      "inspect", "Summary of a saved model and every BatchNormalization layer's weights");
  inspect_cmd->add_option("MODEL_DIR", inspect.model_dir, "Saved model folder")->required();

  try {
    app.parse(argc, argv);
    if (epochs_opt->count()) train.epochs = epochs;
    if (seed_opt->count()) train.seed = seed;
    if (verbose_opt->count()) train.verbose = verbose;
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*train_cmd) return run_train(train);
    if (*evaluate_cmd) return run_evaluate(evaluate);
    if (*predict_cmd) return run_predict(predict);
    return run_inspect(inspect);
  } catch (const Error& e) {
    std::fprintf(stderr, "normlab: error: %s\n", e.what());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    std::fprintf(stderr, "normlab: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "normlab: unexpected error: %s\n", e.what());
    return 1;
  }
}
