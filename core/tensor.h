/// @file
/// A row-major float32 matrix: rows = batch (N), cols = features (D).
/// Every tensor in normlab is two-dimensional; a vector (bias, gamma, moving mean) is 1 x D.
/// resize() never gives memory back, so buffers sized for the largest batch are reused by
/// smaller ones (the last partial batch of an epoch) without allocating.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

namespace normlab {

/// A row-major float32 matrix, rows = batch (N), cols = features (D).
class Tensor {
 public:
  Tensor() = default;
  /// rows x cols, every element `fill`.
  Tensor(std::size_t rows, std::size_t cols, float fill = 0.0f);
  /// Tensor{{1, 2}, {3, 4}}: rows of equal length.
  Tensor(std::initializer_list<std::initializer_list<float>> rows);
  /// The same from rows held in vectors, of equal length.
  static Tensor from_rows(const std::vector<std::vector<float>>& rows);
  /// A 1 x D tensor of `values`.
  static Tensor row_vector(const std::vector<float>& values);

  ///@{
  /// Shape: rows() x cols(), size() elements.
  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  std::size_t size() const { return rows_ * cols_; }
  bool empty() const { return size() == 0; }
  ///@}

  ///@{
  /// Element access, row-major: element (r, c) is data()[r * cols() + c].
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float* row(std::size_t r) { return data_.data() + r * cols_; }
  const float* row(std::size_t r) const { return data_.data() + r * cols_; }
  float& operator()(std::size_t r, std::size_t c) { return data_[r * cols_ + c]; }
  float operator()(std::size_t r, std::size_t c) const { return data_[r * cols_ + c]; }
  float& operator[](std::size_t i) { return data_[i]; }
  float operator[](std::size_t i) const { return data_[i]; }
  float* begin() { return data(); }
  float* end() { return data() + size(); }
  const float* begin() const { return data(); }
  const float* end() const { return data() + size(); }
  ///@}

  /// New shape; contents are unspecified unless only rows shrink or grow with cols unchanged.
  /// Allocates only when the new size exceeds every size this tensor has held.
  void resize(std::size_t rows, std::size_t cols);
  /// Sets every element to `value`.
  void fill(float value);
  /// The elements in row-major order.
  std::vector<float> to_vector() const { return {begin(), end()}; }
  std::string shape_string() const;  ///< "(N, D)"

  /// Same shape and the same bits.
  bool operator==(const Tensor& other) const;

 private:
  std::size_t rows_ = 0, cols_ = 0;
  std::vector<float> data_;
};

/// "(N, D)" for any pair of sizes, as Keras prints shapes.
std::string shape_string(std::size_t rows, std::size_t cols);

}  // namespace normlab
