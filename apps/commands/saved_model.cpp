#include "apps/commands/saved_model.h"

#include <algorithm>
#include <filesystem>

#include "apps/report.h"
#include "core/config_reader.h"
#include "core/error.h"
#include "core/text.h"
#include "data/csv.h"

namespace normlab {

namespace {

// metadata[key]: absent, or a list of column names.
std::vector<std::string> column_list(const nlohmann::json& metadata, const std::string& key,
                                     const std::string& where) {
  const auto it = metadata.find(key);
  if (it == metadata.end() || it->is_null()) return {};
  std::vector<std::string> names;
  bool ok = it->is_array();
  for (std::size_t i = 0; ok && i < it->size(); ++i) {
    ok = (*it)[i].is_string();
    if (ok) names.push_back((*it)[i].get<std::string>());
  }
  check(ok, where + ": userDefinedMetadata." + key + ": expected a list of column names, got " +
                describe_json(*it));
  return names;
}
}  // namespace

SavedModel open_saved_model(const std::string& dir) {
  SavedModel saved{dir, load_model(dir), read_model_info(dir), {}, {}};
  const std::string where = (std::filesystem::path(dir) / "model.json").string();
  saved.feature_columns = column_list(saved.info.metadata, "feature_columns", where);
  saved.label_columns = column_list(saved.info.metadata, "label_columns", where);
  return saved;
}

Dataset read_model_input(const SavedModel& saved, const std::string& csv,
                         const std::vector<std::string>& label_columns, CsvOrigin* origin) {
  Dataset data = read_csv(csv, label_columns, origin);
  std::vector<std::string> features;
  for (const auto& name : csv_header(csv))
    if (std::find(label_columns.begin(), label_columns.end(), name) == label_columns.end())
      features.push_back(name);
  if (!saved.feature_columns.empty())
    check(features == saved.feature_columns,
          csv + ": the feature columns are " + join(features) + "; the model in " + saved.dir +
              " was trained on " + join(saved.feature_columns) + " (same names, same order)");
  check(data.x.cols() == saved.model.input_dim(),
        csv + ": " + std::to_string(data.x.cols()) + " feature columns, but the model in " +
            saved.dir + " takes inputs of width " + std::to_string(saved.model.input_dim()));
  return data;
}

std::vector<std::string> label_columns_in(const SavedModel& saved, const std::string& csv) {
  std::vector<std::string> present;
  const auto header = csv_header(csv);
  for (const auto& name : saved.label_columns)
    if (std::find(header.begin(), header.end(), name) != header.end()) present.push_back(name);
  return present;
}

}  // namespace normlab
