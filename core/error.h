// The one exception type of normlab. Every message says what was received and what was
// expected, naming the layer, the JSON path, the file or the line where it applies.
#pragma once

#include <stdexcept>
#include <string>

namespace normlab {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws Error(message) when `ok` is false.
inline void check(bool ok, const std::string& message) {
  if (!ok) throw Error(message);
}

}  // namespace normlab
