/// @file
/// Seeded synthetic data for the three Keras examples of the seed document. Every number comes
/// from normlab::Rng, so the same seed gives the same bits on every platform.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/rng.h"
#include "core/tensor.h"
#include "data/dataset.h"

namespace normlab {

/// Example 3 (imbalanced classes), as
///   x = np.concatenate([np.random.randn(1000, 10), np.random.randn(100, 10) + 5])
///   y = np.concatenate([np.zeros(1000), np.ones(100)])
/// x: (1100, 10), rows 0..999 ~ N(0, 1) labelled 0, then rows 1000..1099 ~ N(5, 1) labelled 1;
/// y: (1100, 1). Drawn row by row in that order.
Dataset make_imbalanced(std::uint64_t seed);

/// Examples 1-2 (Dense(64, input 10) -> BatchNormalization -> ReLU, trained with MSE):
///   A     ~ N(0, 1/features)       features x targets, drawn first (regression_weights)
///   x_i   ~ N(0, 1)                features values of row i
///   e_i   ~ N(0, 1)                targets values of row i, drawn right after x_i
///   y_i   = relu(x_i A + 0.1 e_i)
/// so each pre-activation x_i A has unit variance, and y is what a ReLU output can fit.
/// Rows are drawn one after another, so a smaller `rows` with the same seed gives a prefix.
Dataset make_regression(std::size_t rows, std::uint64_t seed, std::size_t features = 10,
                        std::size_t targets = 64);

/// The matrix A that make_regression(rows, seed, features, targets) uses (features x targets).
Tensor regression_weights(std::uint64_t seed, std::size_t features, std::size_t targets);

}  // namespace normlab
