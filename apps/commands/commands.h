// The sub-commands of the normlab program. apps/normlab.cpp parses the command line into these
// option sets (CLI11) and calls the matching run_*; each returns the exit status and throws
// normlab::Error for anything wrong with the files it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/communicator.h"

namespace normlab {

// normlab train [CONFIG] [--out DIR] [--epochs N] [--seed S] [--verbose V] [--threads T]
//               [--log-csv FILE] [--log-steps FILE]
//               [--checkpoint DIR [--checkpoint-every N] [--resume]]
struct TrainOptions {
  std::string config;  // empty: the built-in default
  std::string out = "normlab-model";
  std::optional<int> epochs;
  std::optional<std::uint64_t> seed;
  std::optional<int> verbose;
  int threads = 1;
  std::string log_csv, log_steps;
  std::string checkpoint;             // empty: no checkpoints
  std::int64_t checkpoint_every = 0;  // steps; 0: at the end of every epoch
  bool resume = false;                // continue from the checkpoint in `checkpoint`
  Communicator* communicator = &local_communicator();  // the processes mpirun started
};
int run_train(const TrainOptions& options);

// normlab evaluate MODEL_DIR --data FILE.csv [--label-columns A,B] [--batch-size N]
struct EvaluateOptions {
  std::string model_dir, data;
  std::vector<std::string> label_columns;  // empty: the ones the model was trained with
  std::size_t batch_size = 32;
  int threads = 1;
};
int run_evaluate(const EvaluateOptions& options);

// normlab predict MODEL_DIR --input FILE.csv [--output FILE.csv] [--batch-size N]
struct PredictOptions {
  std::string model_dir, input, output;  // output empty: CSV on standard output
  std::size_t batch_size = 32;
  int threads = 1;
};
int run_predict(const PredictOptions& options);

// normlab inspect MODEL_DIR [--data FILE.csv [--batch-size N]]
struct InspectOptions {
  std::string model_dir;
  std::string data;             // empty: the saved weights only
  std::size_t batch_size = 32;  // of the training-mode evaluation: the fit's batch size
  int threads = 1;
};
int run_inspect(const InspectOptions& options);

// normlab recalibrate MODEL_DIR --data FILE.csv [--batches N] [--batch-size B] [--out DIR]
struct RecalibrateCommandOptions {
  std::string model_dir, data;
  std::string out;          // empty: MODEL_DIR itself
  std::size_t batches = 0;  // 0: every row
  std::size_t batch_size = 32;
  int threads = 1;
};
int run_recalibrate(const RecalibrateCommandOptions& options);

// normlab export MODEL_DIR (--fold-bn | --unfold) --out DIR
struct ExportOptions {
  std::string model_dir, out;
  bool fold_bn = false, unfold = false;  // exactly one of them
};
int run_export(const ExportOptions& options);

// configs/imbalanced.json, compiled in (apps/default_config.cpp.in): what `normlab train`
// runs without a config.
extern const char* const kDefaultConfigName;
extern const char* const kDefaultConfig;

}  // namespace normlab
