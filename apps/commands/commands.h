// The sub-commands of the normlab program. apps/normlab.cpp parses the command line into these
// option sets (CLI11) and calls the matching run_*; each returns the exit status and throws
// normlab::Error for anything wrong with the files it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace normlab {

// normlab train [CONFIG] [--out DIR] [--epochs N] [--seed S] [--verbose V] [--threads T]
//               [--log-csv FILE] [--log-steps FILE]
struct TrainOptions {
  std::string config;  // empty: the built-in default
  std::string out = "normlab-model";
  std::optional<int> epochs;
  std::optional<std::uint64_t> seed;
  std::optional<int> verbose;
  int threads = 1;
  std::string log_csv, log_steps;
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

// normlab inspect MODEL_DIR
struct InspectOptions {
  std::string model_dir;
};
int run_inspect(const InspectOptions& options);

// configs/imbalanced.json, compiled in (apps/default_config.cpp.in): what `normlab train`
// runs without a config.
extern const char* const kDefaultConfigName;
extern const char* const kDefaultConfig;

}  // namespace normlab
