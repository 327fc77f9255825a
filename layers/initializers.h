/// @file
/// @verbatim
/// Weight initializers, by Keras name. fan_in = rows, fan_out = cols of the kernel.
///   glorot_uniform  U(-l, l), l = sqrt(6 / (fan_in + fan_out))     (Keras' Dense default)
///   he_uniform      U(-l, l), l = sqrt(6 / fan_in)
///   torch_uniform   U(-l, l), l = 1 / sqrt(fan_in)   (PyTorch Linear's default for weight and
///   bias) zeros, ones     constants
/// @endverbatim
#pragma once

#include <cstddef>
#include <string>

#include "core/rng.h"
#include "core/tensor.h"

namespace normlab {

/// Fills t; fan_in is passed separately so that a bias can share its kernel's bound.
void initialize(const std::string& initializer, Tensor& t, std::size_t fan_in, std::size_t fan_out,
                Rng& rng);
/// Throws for a name that initialize() does not know, listing the valid ones.
void check_initializer(const std::string& initializer);

}  // namespace normlab

namespace normlab {
class ConfigReader;
/// An initializer as Keras serializes it: a name ("glorot_uniform") or an object
/// {"class_name": "GlorotUniform", "config": {...}}; the value at `key` or `fallback`.
std::string read_initializer(ConfigReader& reader, const std::string& key,
                             const std::string& fallback);
}  // namespace normlab
