/// @file
/// normlab's semantic version, set in one place: the project() call of CMakeLists.txt.
#pragma once

namespace normlab {

/// "0.1.0"
const char* version();

}  // namespace normlab
