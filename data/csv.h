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

#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"

namespace normlab {

/// x = every column not in label_columns, in header order; y = the label columns in the order
/// given. An empty label_columns reads features only, with y of shape (N, 0) (predict inputs).
Dataset read_csv(const std::string& path, const std::vector<std::string>& label_columns);
/// The same on text already in memory; display_name stands for the file in error messages.
Dataset parse_csv(std::string_view text, const std::string& display_name,
                  const std::vector<std::string>& label_columns);

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
