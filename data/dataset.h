/// @file
/// A dataset in memory: features x (N x D), targets y (N x K) and optional per-row weights.
/// Rows are samples, as everywhere in normlab. K may be 0 (inputs for predict), and an empty
/// sample_weight means every row weighs 1 (Keras' sample_weight=None).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace normlab {

/// Features x (N x D), targets y (N x K) and optional per-row weights.
struct Dataset {
  Tensor x;                          ///< N x D features
  Tensor y;                          ///< N x K targets; N x 0 when there are none
  std::vector<float> sample_weight;  ///< N weights, or empty = unweighted

  /// N, the number of rows.
  std::size_t size() const { return x.rows(); }

  /// Throws unless y has N rows and sample_weight is empty or has N entries; `what` names the
  /// dataset in the message ("training data").
  void check_consistent(const std::string& what) const;
};

/// Keras' validation_split: the LAST `fraction` of the rows, taken before any shuffling, become
/// the validation set.
///   split_at = floor(N * (1 - fraction))   (in double, exactly as Keras computes it)
///   train = rows [0, split_at),  validation = rows [split_at, N)
/// Throws when fraction is not in (0, 1) or either side would be empty.
std::pair<Dataset, Dataset> split_validation(const Dataset& data, double fraction);

/// Throws when t holds a NaN or an infinity, naming `what` and the (0-based) row and column of
/// the first one in row-major order.
void check_finite(const Tensor& t, const std::string& what);

}  // namespace normlab
