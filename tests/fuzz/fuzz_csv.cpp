// libFuzzer harness for the CSV reader: the input is a file's text, read twice, for features
// only (predict inputs) and with a label column "y". A malformed file must end in a
// normlab::Error; any other exception, a crash or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "data/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::vector<std::string>& labels : {std::vector<std::string>{}, {"y"}}) {
    try {
      normlab::parse_csv(text, "fuzz.csv", labels);
    } catch (const normlab::Error&) {
    }
  }
  return 0;
}
