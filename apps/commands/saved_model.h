// A saved model as the evaluate, predict and inspect commands use it: the model (compiled when
// the file records a loss) and the column names `normlab train` recorded beside it.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"
#include "io/model_file.h"
#include "model/sequential.h"

namespace normlab {

struct SavedModel {
  std::string dir;
  Sequential model;
  ModelInfo info;
  // userDefinedMetadata.feature_columns / label_columns; empty when the model was saved by
  // another program.
  std::vector<std::string> feature_columns, label_columns;
};

SavedModel open_saved_model(const std::string& dir);

// Reads the CSV rows a model takes: x = every column but `label_columns` (which may be empty),
// checked against the model's recorded feature columns (same names, same order) or, when there
// are none, against its input width.
Dataset read_model_input(const SavedModel& saved, const std::string& csv,
                         const std::vector<std::string>& label_columns);

}  // namespace normlab
