// Golden reference cases (schema and semantics: tests/reference/cases/README.md): loads a case,
// runs it through normlab and compares every expected quantity with the case's own tolerance,
//   abs(actual - expected) <= atol + rtol * abs(expected)          element by element.
//
// Kinds: bn_single_layer, dense_single_layer, layer_single, training_trajectory. Quantities are
// named by the case's tolerance keys ("grads_training.x", "final_weights[3].kernel",
// "final_moving_stats.keras_biased[1].moving_variance"). Nothing is skipped: a case that cannot
// be run (unknown kind, key, layer, activation, loss or optimizer setting), an expected quantity
// normlab does not compute or that has no tolerance, a tolerance entry that names no compared
// quantity, a shape mismatch or a null where normlab computes a value (or the reverse) is a
// failure. Informational parts (cross_checks, variance_convention_check, notes) are not read;
// alternative_adam_epsilon_placement is compared when it holds expected numbers.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace normlab::reference {

// One compared quantity, or the case as a whole (quantity "(case)") when it cannot be run.
struct QuantityResult {
  std::string quantity;
  bool ok = false;
  std::string detail;  // "max|err| 3.1e-07  (worst margin 12%)", or what went wrong
};

struct CaseResult {
  std::string id;      // the case's id, or its file when the id cannot be read
  std::string source;  // the file it came from
  std::vector<QuantityResult> quantities;
  // Every quantity passed, and there was at least one.
  bool ok() const;
  // The quantities that failed ("(case)" included).
  std::vector<std::string> failed() const;
};

// The case files of a directory: those index.json lists (with the ids it gives them) when it is
// there, otherwise every *.json file but index.json, sorted. Throws Error when the directory is
// missing, the index is malformed or the list is empty.
struct CaseFile {
  std::filesystem::path path;
  std::string id;  // from index.json; empty without an index
};
std::vector<CaseFile> case_files(const std::filesystem::path& dir);

// Runs one case; never throws: every problem is a failed QuantityResult.
CaseResult run_case(const nlohmann::json& c, const std::string& source);
// Every case of a directory; a missing directory or an empty case list is one failed result.
std::vector<CaseResult> run_directory(const std::filesystem::path& dir);

// "traj_small_mse_adam  final_weights[0].kernel  max|err| 3.1e-07  (worst margin 12%)  ok"
std::string report_line(const CaseResult& c, const QuantityResult& q);

}  // namespace normlab::reference
