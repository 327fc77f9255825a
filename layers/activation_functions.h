/// @file
/// @verbatim
/// Elementwise activations, shared by the Activation layer and Dense(activation=...).
/// Every derivative is written in terms of the output y, so a layer caches y only.
///
///   linear   y = x                     dx = dy
///   relu     y = max(x, 0)             dx = dy * [y > 0]
///   sigmoid  y = 1 / (1 + e^-x)        dx = dy * y (1 - y)
///   tanh     y = tanh(x)               dx = dy * (1 - y^2)
///   softmax  y_j = e^(x_j - max x) / sum_k e^(x_k - max x)      (per row; the max makes it stable)
///            dx_j = y_j (dy_j - sum_k dy_k y_k)
/// @endverbatim
#pragma once

#include <string>

#include "core/tensor.h"

namespace normlab {

/// The elementwise functions f of the table above.
enum class ActivationKind { Linear, Relu, Sigmoid, Tanh, Softmax };

/// "relu" -> ActivationKind::Relu; an unknown name throws, listing the valid ones.
ActivationKind parse_activation(const std::string& name);
/// ActivationKind::Relu -> "relu".
std::string activation_name(ActivationKind kind);

/// y = f(x); y is resized to x's shape (y may be x itself).
void activation_forward(ActivationKind kind, const Tensor& x, Tensor& y);
/// dx = f'(x) * dy from the forward output y; dx is resized (dx may be dy itself).
void activation_backward(ActivationKind kind, const Tensor& y, const Tensor& dy, Tensor& dx);

}  // namespace normlab
