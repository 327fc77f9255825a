#include "core/tensor.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/parallel.h"

namespace normlab {

Tensor::Tensor(std::size_t rows, std::size_t cols, float fill)
    : rows_(rows), cols_(cols), data_(rows * cols, fill) {}

Tensor::Tensor(std::initializer_list<std::initializer_list<float>> rows) {
  rows_ = rows.size();
  cols_ = rows_ ? rows.begin()->size() : 0;
  data_.reserve(rows_ * cols_);
  for (const auto& r : rows) {
    check(r.size() == cols_, "Tensor: rows of unequal length (" + std::to_string(r.size()) +
                                 " vs " + std::to_string(cols_) + ")");
    data_.insert(data_.end(), r.begin(), r.end());
  }
}

Tensor Tensor::from_rows(const std::vector<std::vector<float>>& rows) {
  Tensor t(rows.size(), rows.empty() ? 0 : rows[0].size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    check(rows[r].size() == t.cols_, "Tensor: row " + std::to_string(r) + " has " +
                                         std::to_string(rows[r].size()) + " values, expected " +
                                         std::to_string(t.cols_));
    std::copy(rows[r].begin(), rows[r].end(), t.row(r));
  }
  return t;
}

Tensor Tensor::row_vector(const std::vector<float>& values) {
  Tensor t(1, values.size());
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

void Tensor::resize(std::size_t rows, std::size_t cols) {
  rows_ = rows;
  cols_ = cols;
  if (data_.size() < rows * cols) data_.resize(rows * cols);
}

void Tensor::fill(float value) {
  float* data = data_.data();
  parallel_for(size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
    std::fill(data + begin, data + end, value);
  });
}

std::string Tensor::shape_string() const {
  return normlab::shape_string(rows_, cols_);
}

bool Tensor::operator==(const Tensor& other) const {
  return rows_ == other.rows_ && cols_ == other.cols_ &&
         (size() == 0 || std::memcmp(data(), other.data(), size() * sizeof(float)) == 0);
}

std::string shape_string(std::size_t rows, std::size_t cols) {
  std::string s = "(";
  s += std::to_string(rows) + ", " + std::to_string(cols) + ")";
  return s;
}

}  // namespace normlab
