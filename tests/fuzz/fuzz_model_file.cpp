// libFuzzer harness for saved models: the input is model.json's text, a NUL byte, then the bytes
// of weights.bin (no NUL: no weight file at all), read by load_model_from_memory, the file loader
// without the file system, compiled as `normlab inspect` and `evaluate` read it. A malformed model
// must end in a normlab::Error; any other exception, a crash or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"
#include "io/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  std::map<std::string, std::string_view> weight_files;
  if (nul != std::string_view::npos) weight_files["weights.bin"] = input.substr(nul + 1);
  try {
    normlab::load_model_from_memory(input.substr(0, nul), weight_files);
  } catch (const normlab::Error&) {
  }
  return 0;
}
