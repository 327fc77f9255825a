// Hostile variants of a good saved model, each with the start of the error load_model must give
// for it: the table the model-file tests run.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "error_of.h"
#include "io/model_file.h"
#include "run_program.h"

namespace normlab::testing {

/// One hostile variant: model.json edited, and/or the directory changed.
struct ModelFileCase {
  const char* name;
  std::function<void(nlohmann::json&)> edit_json;              // applied to model.json, when given
  std::function<void(const std::filesystem::path&)> edit_dir;  // applied to the directory
  std::string message;  // after "DIR/model.json: ", or after "DIR" when it starts with '/'
};

/// Each case on its own copy root/<name> of the saved model root/good: load_model must fail
/// with a normlab::Error whose message starts as the case says.
inline void check_model_file_cases(const std::filesystem::path& root,
                                   const std::vector<ModelFileCase>& cases) {
  const auto good = nlohmann::json::parse(read_file_text(root / "good" / "model.json"));
  for (const auto& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    const std::filesystem::path dir = root / c.name;
    std::filesystem::copy(root / "good", dir);
    if (c.edit_json) {
      nlohmann::json m = good;
      c.edit_json(m);
      std::ofstream(dir / "model.json", std::ios::binary | std::ios::trunc) << m.dump();
    }
    if (c.edit_dir) c.edit_dir(dir);
    const std::string expected = c.message.starts_with("/")
                                     ? dir.string() + c.message
                                     : (dir / "model.json").string() + ": " + c.message;
    CHECK(error_of([&] { load_model(dir); }).starts_with(expected));
  }
}

}  // namespace normlab::testing
