/// @file
/// Words and lists as text for messages and names.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace normlab {

/// "a, b, c". With more than `max_items` items, the first `max_items` and
/// ", ... (N in all)", so that a message stays readable for a list of thousands.
std::string join(const std::vector<std::string>& items,
                 std::size_t max_items = std::numeric_limits<std::size_t>::max());
/// A Keras shape as JSON writes it: "[3, 4]".
std::string shape_text(const std::vector<std::size_t>& shape);
/// "BatchNormalization" -> "batch_normalization", "GlorotUniform" -> "glorot_uniform": how
/// Keras derives layer names and initializer names from class names.
std::string snake_case(std::string_view name);

}  // namespace normlab
