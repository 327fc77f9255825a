// normlab predict: a saved model's outputs (inference mode) for every row of a CSV file, written
// as CSV to a file (atomically) or to standard output.
#include <algorithm>
#include <cstdio>

#include "apps/commands/commands.h"
#include "apps/commands/saved_model.h"
#include "core/format.h"
#include "core/parallel.h"
#include "data/csv.h"

namespace normlab {

int run_predict(const PredictOptions& o) {
  set_num_threads(o.threads);
  SavedModel saved = open_saved_model(o.model_dir);
  // Label columns in the input (an evaluation file, say) are not features: skip them.
  std::vector<std::string> present;
  const auto header = csv_header(o.input);
  for (const auto& name : saved.label_columns)
    if (std::find(header.begin(), header.end(), name) != header.end()) present.push_back(name);
  const Dataset data = read_model_input(saved, o.input, present);

  const Tensor outputs = saved.model.predict(data.x, o.batch_size);
  // Columns are named after the labels the model was trained on, else output_0, output_1, ...
  std::vector<std::string> names = saved.label_columns;
  if (names.size() != outputs.cols()) {
    names.clear();
    for (std::size_t j = 0; j < outputs.cols(); ++j) names.push_back("output_" + std::to_string(j));
  }

  if (!o.output.empty()) {
    write_csv(o.output, names, outputs);
    std::printf("Wrote %zu predictions to %s\n", outputs.rows(), o.output.c_str());
    return 0;
  }
  std::string text;
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (j) text += ',';
    text += names[j];
  }
  text += '\n';
  for (std::size_t i = 0; i < outputs.rows(); ++i) {
    for (std::size_t j = 0; j < outputs.cols(); ++j) {
      if (j) text += ',';
      text += format_float(outputs(i, j));
    }
    text += '\n';
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace normlab
