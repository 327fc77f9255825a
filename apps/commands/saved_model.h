// A saved model as the evaluate, predict and inspect commands use it: the model (compiled when
// the file records a loss) and the column names `normlab train` recorded beside it.
#pragma once

#include <string>
#include <vector>

#include "data/csv.h"
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
// are none, against its input width. `origin`, when given, receives where the rows came from.
Dataset read_model_input(const SavedModel& saved, const std::string& csv,
                         const std::vector<std::string>& label_columns,
                         CsvOrigin* origin = nullptr);

// The model's recorded label columns that the CSV file's header has, in the model's order.
std::vector<std::string> label_columns_in(const SavedModel& saved, const std::string& csv);

}  // namespace normlab
