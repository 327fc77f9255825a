/// @file
/// Numbers as text for messages and logs.
#pragma once

#include <charconv>
#include <string>

namespace normlab {

/// Shortest decimal text that reads back to the same float ("0.1", "1e-07", "2", "nan"):
/// what a message shows is the value the program holds, never a rounded "0.000000".
inline std::string format_float(float value) {
  char text[32];  // at most 15 characters ("-1.1754944e-38")
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

}  // namespace normlab
