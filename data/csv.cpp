#include "data/csv.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/format.h"
#include "core/text.h"
#include "data/dataset.h"

namespace normlab {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A cell or name as it goes into a message: quoted, long ones cut.
std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string out = "'";
  out += s.size() > kMax ? std::string(s.substr(0, kMax)) + "..." : std::string(s);
  return out + "'";
}

// Walks the text line by line, counting every line (blank ones too) from 1.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {
    if (text_.starts_with(kBom)) text_.remove_prefix(kBom.size());
  }
  // The next non-blank line without its "\n" or "\r\n"; false at the end of the text.
  bool next(std::string_view& line) {
    while (pos_ < text_.size()) {
      const std::size_t nl = text_.find('\n', pos_);
      const std::size_t end = nl == std::string_view::npos ? text_.size() : nl;
      line = text_.substr(pos_, end - pos_);
      if (line.ends_with('\r')) line.remove_suffix(1);
      pos_ = nl == std::string_view::npos ? text_.size() : nl + 1;
      ++line_number_;
      if (!trim(line).empty()) return true;
    }
    return false;
  }
  std::size_t line_number() const { return line_number_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0, line_number_ = 0;
};

// Error context: "CSV 'file.csv', line 7" and the column names once the header is known.
struct Where {
  const std::string& file;
  std::size_t line = 0;
  const std::vector<std::string>* names = nullptr;

  std::string at() const { return "CSV '" + file + "', line " + std::to_string(line); }
  // "column 2 'b'" (1-based), or "column 2" in the header itself.
  std::string column(std::size_t index) const {
    std::string s = "column " + std::to_string(index + 1);
    if (names && index < names->size()) s += " " + shown((*names)[index]);
    return s;
  }
  [[noreturn]] void fail(const std::string& message) const { throw Error(at() + ": " + message); }
  [[noreturn]] void fail(std::size_t index, const std::string& message) const {
    throw Error(at() + ", " + column(index) + ": " + message);
  }
};

// Splits one line into its fields (RFC 4180, one line per record), unquoted and trimmed.
// `fields` is reused: its strings keep their memory from row to row. Returns the field count.
std::size_t split_fields(std::string_view line, const Where& where,
                         std::vector<std::string>& fields) {
  std::size_t count = 0, i = 0;
  const std::size_t n = line.size();
  for (;;) {
    if (count == fields.size()) fields.emplace_back();
    std::string& field = fields[count];
    field.clear();
    while (i < n && is_space(line[i])) ++i;
    if (i < n && line[i] == '"') {
      const std::size_t open = i++;
      for (;;) {
        if (i >= n) {
          where.fail(count, "unterminated quoted field (the '\"' at character " +
                                std::to_string(open + 1) +
                                " is never closed); expected a closing '\"' before the end of "
                                "the line (newlines inside quoted fields are not supported)");
        }
        if (line[i] == '"') {
          if (i + 1 < n && line[i + 1] == '"') {  // "" is an escaped quote
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      while (i < n && is_space(line[i])) ++i;
      if (i < n && line[i] != ',') {
        where.fail(count, "unexpected " + shown(std::string_view(&line[i], 1)) +
                              " after the closing quote; expected ',' or the end of the line");
      }
      const std::string_view t = trim(field);
      if (t.size() != field.size()) field = std::string(t);
    } else {
      const std::size_t begin = i;
      while (i < n && line[i] != ',') {
        if (line[i] == '"') {
          where.fail(count,
                     "a '\"' inside an unquoted field; expected the whole field in quotes "
                     "with inner quotes doubled (\"a\"\"b\")");
        }
        ++i;
      }
      field.assign(trim(line.substr(begin, i - begin)));
    }
    ++count;
    if (i >= n) return count;
    ++i;  // the comma
  }
}

// Checks and returns the header's names.
std::vector<std::string> parse_header(std::string_view line, Where& where) {
  std::vector<std::string> names;
  names.resize(split_fields(line, where, names));
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (names[c].empty()) {
      where.fail(c, "empty column name in the header; expected every column to be named");
    }
    for (std::size_t d = 0; d < c; ++d) {
      if (names[d] == names[c]) {
        where.fail("duplicate column name " + shown(names[c]) + " (columns " +
                   std::to_string(d + 1) + " and " + std::to_string(c + 1) +
                   "); expected unique names");
      }
    }
  }
  return names;
}

// One cell as a finite float32; see csv.h for the accepted forms.
float parse_cell(std::string_view cell, std::size_t column, const Where& where) {
  const std::string_view s = trim(cell);
  if (s.empty()) where.fail(column, "empty cell; expected a number");
  const char* begin = s.data();
  const char* const end = s.data() + s.size();
  // from_chars takes no '+'; accept "+1.5" (but not "+-1") as Python and pandas do.
  if (*begin == '+' && s.size() > 1 && begin[1] != '+' && begin[1] != '-') ++begin;
  float value = 0.0f;
  auto [ptr, ec] = std::from_chars(begin, end, value, std::chars_format::general);
  if (ec == std::errc::invalid_argument || ptr != end) {
    where.fail(column, shown(s) + " is not a number; expected a decimal float such as 1.5e-3");
  }
  if (ec == std::errc::result_out_of_range) {
    // Overflow or underflow; float64 tells them apart. An underflow rounds to 0/subnormal.
    double wide = 0.0;
    const auto r = std::from_chars(begin, end, wide, std::chars_format::general);
    value = static_cast<float>(wide);
    if (r.ec != std::errc() || !std::isfinite(value)) {
      // float64 fails too beyond 1.8e308 or below ~1e-308; such cells are not data.
      where.fail(column, shown(s) +
                             " is out of the range of float32; expected a magnitude of at most "
                             "3.4028235e+38 (and, if tiny, not below 1e-308)");
    }
  }
  if (!std::isfinite(value)) {
    where.fail(column, shown(s) +
                           " is not a finite number; NaN and infinite values are not "
                           "allowed, expected a finite float");
  }
  return value;
}

std::string shown_list(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& name : names) quoted.push_back(shown(name));
  return join(quoted);
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  check(std::filesystem::exists(path, ec), "CSV file '" + path + "' does not exist");
  check(!std::filesystem::is_directory(path, ec),
        "CSV file '" + path + "' is a directory; expected a file");
  std::ifstream in(path, std::ios::binary);
  check(in.is_open(), "cannot open CSV file '" + path + "' for reading: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  check(!in.bad(), "error while reading CSV file '" + path + "'");
  return std::move(text).str();
}

}  // namespace

std::string CsvOrigin::label_cell(std::size_t row, std::optional<std::size_t> k) const {
  std::string text = "CSV '" + file + "'";
  if (row < lines.size()) text += ", line " + std::to_string(lines[row]);
  // "3 'name'" for y's column `label`.
  const auto append_column = [&](std::size_t label) {
    const std::size_t c = label_index.at(label);
    text += std::to_string(c + 1);
    if (c < header.size()) text.append(" ").append(shown(header[c]));
  };
  const std::size_t first = k ? *k : 0, end = k ? *k + 1 : label_index.size();
  text += end - first > 1 ? ", columns " : ", column ";
  for (std::size_t label = first; label < end; ++label) {
    if (label > first) text += ", ";
    append_column(label);
  }
  return text;
}

Dataset parse_csv(std::string_view text, const std::string& display_name,
                  const std::vector<std::string>& label_columns, CsvOrigin* origin) {
  LineReader lines(text);
  Where where{display_name};
  std::string_view line;
  if (!lines.next(line)) {
    throw Error("CSV '" + display_name +
                "' is empty; expected a header line and at least one data row");
  }
  where.line = lines.line_number();
  const std::vector<std::string> names = parse_header(line, where);
  const std::size_t header_line = where.line;

  // Where each column goes: label_of[c] = its position in y, or kFeature.
  constexpr std::size_t kFeature = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> label_of(names.size(), kFeature);
  for (std::size_t k = 0; k < label_columns.size(); ++k) {
    std::size_t c = 0;
    while (c < names.size() && names[c] != label_columns[k]) ++c;
    if (c == names.size()) {
      where.fail("label column " + shown(label_columns[k]) +
                 " is not in the header; the columns are " + shown_list(names));
    }
    if (label_of[c] != kFeature) {
      throw Error("CSV '" + display_name + "': label column " + shown(label_columns[k]) +
                  " is listed twice; expected each label once");
    }
    label_of[c] = k;
  }
  const std::size_t n_labels = label_columns.size();
  const std::size_t n_features = names.size() - n_labels;
  if (n_features == 0) {
    where.fail("every column (" + shown_list(names) +
               ") is a label column; expected at least one feature column");
  }

  where.names = &names;
  std::vector<std::string> fields;
  std::vector<float> xs, ys, label_row(n_labels);
  std::vector<std::size_t> row_lines;
  std::size_t rows = 0;
  while (lines.next(line)) {
    where.line = lines.line_number();
    if (origin) row_lines.push_back(where.line);
    const std::size_t count = split_fields(line, where, fields);
    if (count != names.size()) {
      where.fail(std::to_string(count) + (count == 1 ? " field" : " fields") + ", expected " +
                 std::to_string(names.size()) + " (as in the header)");
    }
    for (std::size_t c = 0; c < count; ++c) {
      const float v = parse_cell(fields[c], c, where);
      if (label_of[c] == kFeature) {
        xs.push_back(v);
      } else {
        label_row[label_of[c]] = v;
      }
    }
    ys.insert(ys.end(), label_row.begin(), label_row.end());
    ++rows;
  }
  if (rows == 0) {
    throw Error("CSV '" + display_name + "' has a header (line " + std::to_string(header_line) +
                ") but no data rows; expected at least one data row");
  }

  Dataset data;
  data.x = Tensor(rows, n_features);
  std::copy(xs.begin(), xs.end(), data.x.data());
  data.y = Tensor(rows, n_labels);
  std::copy(ys.begin(), ys.end(), data.y.data());
  if (origin) {
    origin->file = display_name;
    origin->header = names;
    origin->label_index.assign(n_labels, 0);
    for (std::size_t c = 0; c < names.size(); ++c)
      if (label_of[c] != kFeature) origin->label_index[label_of[c]] = c;
    origin->lines = std::move(row_lines);
  }
  return data;
}

Dataset read_csv(const std::string& path, const std::vector<std::string>& label_columns,
                 CsvOrigin* origin) {
  return parse_csv(read_file(path), path, label_columns, origin);
}

std::vector<std::string> csv_header(const std::string& path) {
  // Records are single lines, so reading up to the first non-blank line is enough.
  std::error_code ec;
  check(std::filesystem::exists(path, ec), "CSV file '" + path + "' does not exist");
  std::ifstream in(path, std::ios::binary);
  check(in.is_open(), "cannot open CSV file '" + path + "' for reading: " + std::strerror(errno));
  std::string raw;
  for (std::size_t number = 1; std::getline(in, raw); ++number) {
    std::string_view line = raw;
    if (number == 1 && line.starts_with(kBom)) line.remove_prefix(kBom.size());
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (trim(line).empty()) continue;
    Where where{path, number};
    return parse_header(line, where);
  }
  throw Error("CSV '" + path + "' is empty; expected a header line");
}

void write_csv(const std::string& path, const std::vector<std::string>& header,
               const Tensor& values) {
  const std::string what = "write_csv '" + path + "'";
  check(!header.empty() && header.size() == values.cols(),
        what + ": " + std::to_string(header.size()) + " column names for values of shape " +
            values.shape_string() + "; expected one name per column (at least one)");
  for (std::size_t c = 0; c < header.size(); ++c) {
    const std::string& name = header[c];
    check(!name.empty() && trim(name) == name && name.find_first_of("\r\n") == std::string::npos,
          what + ": column " + std::to_string(c + 1) + " name " + shown(name) +
              " would not read back; expected a non-empty name without newlines or "
              "surrounding spaces");
    for (std::size_t d = 0; d < c; ++d) {
      check(header[d] != name, what + ": duplicate column name " + shown(name) + " (columns " +
                                   std::to_string(d + 1) + " and " + std::to_string(c + 1) +
                                   "); expected unique names");
    }
  }
  check_finite(values, what);

  std::string text;
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (c) text += ',';
    if (header[c].find_first_of(",\"") == std::string::npos) {
      text += header[c];
      continue;
    }
    text += '"';
    for (char ch : header[c]) text += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    text += '"';
  }
  text += '\n';
  for (std::size_t r = 0; r < values.rows(); ++r) {
    const float* row = values.row(r);
    for (std::size_t c = 0; c < values.cols(); ++c) {
      if (c) text += ',';
      text += format_float(row[c]);
    }
    text += '\n';
  }
  with_context(what, [&] { write_file_atomically(path, text); });
}

}  // namespace normlab
