// libFuzzer harness for training configs: the input is a config's text, parsed as
// `normlab train CONFIG.json` parses it (relative paths resolve against configs/, so a seed
// naming data/blobs.csv reads it). A malformed config must end in a normlab::Error; any other
// exception, a crash or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/train_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Quiet training output, in case a config's loading ever prints.
  const normlab::TrainOverrides overrides{.verbose = 0};
  try {
    normlab::parse_train_config(text, NORMLAB_CONFIGS_DIR, "fuzz.json", overrides);
  } catch (const normlab::Error&) {
  }
  return 0;
}
