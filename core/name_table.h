/// @file
/// @verbatim
/// An enum's names written once, as a table; reading a name, naming a value and the message for
/// an unknown name all come from it:
///   constexpr NameTable<ActivationKind, 2> kNames{{{ActivationKind::Linear, "linear"}, ...}};
///   parse_name(kNames, "relu", "activation")   -> ActivationKind::Relu
///   parse_name(kNames, "gelu", "activation")   throws "unknown activation 'gelu': expected one
///                                                        of linear, relu"
///   parse_name(kNames, "gelu", "activation", NameListing::Quoted)
///                                              throws "... expected \"linear\" or \"relu\""
///   name_of(kNames, ActivationKind::Relu)      -> "relu"
/// @endverbatim
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace normlab {

/// Every value of an enum with its name, in the order messages list them.
template <class Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, std::string_view>, N>;

/// How an unknown name's message lists the valid ones: `one of a, b, c` (activations, as
/// Keras' own message) or `"a", "b" or "c"` (JSON string options).
enum class NameListing { OneOf, Quoted };

/// The value named `name`; Error "unknown WHAT 'NAME': expected " and the names otherwise.
template <class Enum, std::size_t N>
Enum parse_name(const NameTable<Enum, N>& table, std::string_view name, std::string_view what,
                NameListing listing = NameListing::OneOf) {
  for (const auto& [value, text] : table)
    if (text == name) return value;
  const bool quoted = listing == NameListing::Quoted;
  std::string message = "unknown ";
  message.append(what).append(" '").append(name).append("': expected ");
  if (!quoted) message += "one of ";
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) message += quoted && i + 1 == N ? " or " : ", ";
    if (quoted) message += '"';
    message.append(table[i].second);
    if (quoted) message += '"';
  }
  throw Error(message);
}

/// The name of `value` (the first entry's name for a value the table lacks).
template <class Enum, std::size_t N>
std::string name_of(const NameTable<Enum, N>& table, Enum value) {
  for (const auto& [v, text] : table)
    if (v == value) return std::string(text);
  return std::string(table[0].second);
}

}  // namespace normlab
