/// @file
/// The one exception type of normlab. Every message says what was received and what was
/// expected, naming the layer, the JSON path, the file or the line where it applies.
#pragma once

#include <stdexcept>
#include <string>

namespace normlab {

/// The exception every normlab function throws.
class Error : public std::runtime_error {
 public:
  /// The message: what was found, what was expected, and where.
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// Throws Error(message) when `ok` is false. The message argument is evaluated even when `ok`
/// holds: on a path that runs every training step, write `if (!ok) throw Error(...)` instead
/// of building a message string, so that the step allocates nothing.
inline void check(bool ok, const std::string& message) {
  if (!ok) throw Error(message);
}
/// The same for a literal message, which then costs no std::string unless the check fails.
inline void check(bool ok, const char* message) {
  if (!ok) throw Error(message);
}

/// Runs `body` and returns what it returns; an Error it throws comes out as
/// Error("context: " + message). The one way to add the file, the JSON path or the layer that an
/// error raised further down happened in.
template <class F>
auto with_context(const std::string& context, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error& e) {
    throw Error(context + ": " + e.what());
  }
}

}  // namespace normlab
