/// @file
/// @verbatim
/// Numeric CSV files <-> Dataset.
///
/// Reading follows RFC 4180 with a few practical tolerances:
///   - the first non-blank line is the header; names are trimmed, must be non-empty and unique
///   - fields may be quoted: "a,b" keeps the comma, "" inside quotes is one quote character;
///     a newline inside quotes is rejected (every record is one line)
///   - LF or CRLF line ends, blank lines skipped (they still count for line numbers), a leading
///     UTF-8 byte-order mark ignored
///   - every data cell is a float32 read with std::from_chars; spaces around it and a leading
///     '+' are allowed, the rest of the cell must be the number. NaN, infinities and overflow
///     (1e999) are errors; an underflow (1e-50) reads as 0 or a subnormal, as numpy does.
/// Every error names the file, the 1-based line (as an editor shows it) and, for a cell, the
/// column by 1-based index and header name, and says what was found and what was expected.
/// @endverbatim
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"

namespace normlab {

/// Where the rows and label columns of a Dataset read from CSV came from, so that a check made
/// after reading (a label the loss refuses) can name the file, the line and the column.
struct CsvOrigin {
  std::string file;                      ///< the file as messages name it
  std::vector<std::string> header;       ///< every column name, in file order
  std::vector<std::size_t> label_index;  ///< 0-based header column of y's column k
  std::vector<std::size_t> lines;        ///< 1-based line of each data row (blank lines count)

  /// "CSV 'f.csv', line 7, column 3 'label'" for y(row, k); without k, the row's line and its
  /// label columns: "CSV 'f.csv', line 7, columns 3 'a', 4 'b'".
  std::string label_cell(std::size_t row, std::optional<std::size_t> k) const;
};

/// x = every column not in label_columns, in header order; y = the label columns in the order
/// given. An empty label_columns reads features only, with y of shape (N, 0) (predict inputs).
/// `origin`, when given, receives where each row and label column came from.
Dataset read_csv(const std::string& path, const std::vector<std::string>& label_columns,
                 CsvOrigin* origin = nullptr);
/// The same on text already in memory; display_name stands for the file in error messages.
Dataset parse_csv(std::string_view text, const std::string& display_name,
                  const std::vector<std::string>& label_columns, CsvOrigin* origin = nullptr);

/// The (trimmed, validated) column names of the file's header line.
std::vector<std::string> csv_header(const std::string& path);

/// Writes header and values (one row per tensor row) atomically: the text goes to
/// path + ".tmp.<pid>", which is then renamed over path, so readers never see half a file.
/// Floats are printed in std::to_chars' shortest form that reads back to the same bits.
/// Names are quoted when they hold a comma or a quote; values must be finite and names
/// non-empty, unique and free of newlines and surrounding spaces, so read_csv reads back
/// exactly what was written.
void write_csv(const std::string& path, const std::vector<std::string>& header,
               const Tensor& values);

}  // namespace normlab
