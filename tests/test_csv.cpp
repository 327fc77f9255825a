// CSV reading (RFC 4180 quoting, CRLF, BOM, blank lines), every error class with its message,
// and the write_csv -> read_csv round trip, exact to the bit.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "data/csv.h"

using namespace normlab;

namespace {

Dataset parse(const std::string& text, const std::vector<std::string>& labels = {}) {
  return parse_csv(text, "t.csv", labels);
}

// A fresh path in the temp directory, removed (with any leftover .tmp file) on destruction.
struct TempPath {
  std::filesystem::path path;
  explicit TempPath(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("normlab_test_csv_" + std::to_string(::getpid()) + "_" + name)) {
    std::filesystem::remove(path);
  }
  ~TempPath() { std::filesystem::remove(path); }
  std::string str() const { return path.string(); }
};

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

}  // namespace

TEST_CASE("read: features in header order, labels in the order given") {
  const Dataset d = parse("a,b,c,d\n1,2,3,4\n5,6,7,8\n", {"d", "b"});
  CHECK(d.x == Tensor{{1, 3}, {5, 7}});
  CHECK(d.y == Tensor{{4, 2}, {8, 6}});
  CHECK(d.sample_weight.empty());
}

TEST_CASE("read: no label columns gives y of shape (N, 0)") {
  const Dataset d = parse("a,b\n1,2\n3,4\n");
  CHECK(d.x == Tensor{{1, 2}, {3, 4}});
  CHECK(d.y.rows() == 2);
  CHECK(d.y.cols() == 0);
}

TEST_CASE("read: quoted fields with commas and escaped quotes") {
  // Header names: 'x, first', 'say "hi"', 'plain'; cells may be quoted too.
  const Dataset d =
      parse("\"x, first\",\"say \"\"hi\"\"\", plain \n\"1.5\", 2 ,\" -3 \"\n", {"say \"hi\""});
  CHECK(d.x == Tensor{{1.5f, -3}});
  CHECK(d.y == Tensor{{2}});
  CHECK_THROWS_WITH_AS(parse("\"x, first\",b\n1,2\n", {"x"}),
                       doctest::Contains("the columns are 'x, first', 'b'"), Error);
}

TEST_CASE("read: blank lines, CRLF, a BOM, spaces, '+' and exponents") {
  const std::string text = "\xEF\xBB\xBF\r\n  a , b\r\n\r\n 1 ,+2.5\r\n   \r\n-1e-3,\t4E2\r\n\r\n";
  const Dataset d = parse(text, {"b"});
  CHECK(d.x == Tensor{{1}, {-1e-3f}});
  CHECK(d.y == Tensor{{2.5f}, {400}});
  // The last line needs no line end; "-0" keeps its sign; underflow reads as 0.
  const Dataset e = parse("a,b\n-0,1e-50");
  CHECK(std::signbit(e.x(0, 0)));
  CHECK(e.x(0, 1) == 0.0f);
}

TEST_CASE("read errors: empty file and header only") {
  CHECK_THROWS_WITH_AS(parse(""), doctest::Contains("CSV 't.csv' is empty"), Error);
  CHECK_THROWS_WITH_AS(parse("\xEF\xBB\xBF\n  \r\n\n"), doctest::Contains("is empty"), Error);
  CHECK_THROWS_WITH_AS(parse("\n\na,b\n\n"),
                       doctest::Contains("has a header (line 3) but no data rows"), Error);
}

TEST_CASE("read errors: header names") {
  CHECK_THROWS_WITH_AS(parse("a,b, a\n1,2,3\n"),
                       doctest::Contains("CSV 't.csv', line 1: duplicate column name 'a' "
                                         "(columns 1 and 3)"),
                       Error);
  CHECK_THROWS_WITH_AS(parse("\na,,c\n1,2,3\n"),
                       doctest::Contains("line 2, column 2: empty column name"), Error);
}

TEST_CASE("read errors: label columns") {
  CHECK_THROWS_WITH_AS(parse("a,b,c\n1,2,3\n", {"z"}),
                       doctest::Contains("line 1: label column 'z' is not in the header; the "
                                         "columns are 'a', 'b', 'c'"),
                       Error);
  CHECK_THROWS_WITH_AS(parse("a,b\n1,2\n", {"a", "a"}), doctest::Contains("listed twice"), Error);
  CHECK_THROWS_WITH_AS(parse("a,b\n1,2\n", {"a", "b"}),
                       doctest::Contains("expected at least one feature column"), Error);
}

TEST_CASE("read errors: wrong number of fields, counting blank lines") {
  // Line 7 (after a blank line 2 and a blank line 5) has 3 fields.
  const std::string text = "a,b,c,d\n\n1,2,3,4\n5,6,7,8\n\n9,10,11,12\n1,2,3\n";
  CHECK_THROWS_WITH_AS(parse(text),
                       doctest::Contains("CSV 't.csv', line 7: 3 fields, expected 4 (as in the "
                                         "header)"),
                       Error);
  // A trailing comma is one field more; CRLF does not shift the count.
  CHECK_THROWS_WITH_AS(parse("a,b\r\n1,2,\r\n"), doctest::Contains("line 2: 3 fields, expected 2"),
                       Error);
  CHECK_THROWS_WITH_AS(parse("a,b\n1\n"), doctest::Contains("line 2: 1 field, expected 2"), Error);
}

TEST_CASE("read errors: cells that are not finite float32 numbers") {
  const auto fails = [](const std::string& cell, const std::string& message) {
    CAPTURE(cell);
    CHECK_THROWS_WITH_AS(
        parse("a,bee,c\n1,2,3\n\n4," + cell + ",6\n"),
        doctest::Contains(("CSV 't.csv', line 4, column 2 'bee': " + message).c_str()), Error);
  };
  fails("abc", "'abc' is not a number");
  fails("1.5x", "'1.5x' is not a number");
  fails("1 2", "'1 2' is not a number");
  fails("0x10", "'0x10' is not a number");
  fails("+-1", "'+-1' is not a number");
  fails("", "empty cell; expected a number");
  fails("\"\"", "empty cell");
  fails("nan", "'nan' is not a finite number");
  fails("NaN", "'NaN' is not a finite number");
  fails("-inf", "'-inf' is not a finite number");
  fails("Infinity", "'Infinity' is not a finite number");
  fails("1e999", "'1e999' is out of the range of float32");
  fails("-3.5e38", "'-3.5e38' is out of the range of float32");
  fails("1e-400", "'1e-400' is out of the range of float32");  // below even float64
}

TEST_CASE("read errors: quoting") {
  CHECK_THROWS_WITH_AS(parse("a,b\n1,\"2\n3\"\n"),
                       doctest::Contains("line 2, column 2 'b': unterminated quoted field"), Error);
  CHECK_THROWS_WITH_AS(parse("\"a,b\n1,2\n"),
                       doctest::Contains("line 1, column 1: unterminated quoted field"), Error);
  CHECK_THROWS_WITH_AS(parse("a,b\n\"1\"2,3\n"),
                       doctest::Contains("line 2, column 1 'a': unexpected '2' after the closing "
                                         "quote"),
                       Error);
  CHECK_THROWS_WITH_AS(parse("a,b\n1,2\"\n"),
                       doctest::Contains("line 2, column 2 'b': a '\"' inside an unquoted field"),
                       Error);
}

TEST_CASE("read_csv and csv_header on files; missing files") {
  TempPath file("read.csv");
  write_text(file.str(), "\xEF\xBB\xBF\r\n\"p, q\",r\r\n1,2\r\n");
  CHECK(csv_header(file.str()) == std::vector<std::string>{"p, q", "r"});
  const Dataset d = read_csv(file.str(), {"r"});
  CHECK(d.x == Tensor{{1}});
  CHECK(d.y == Tensor{{2}});

  write_text(file.str(), "a,b\n1,zz\n");
  CHECK_THROWS_WITH_AS(
      read_csv(file.str(), {}),
      doctest::Contains(("CSV '" + file.str() + "', line 2, column 2 'b'").c_str()), Error);
  TempPath missing("missing.csv");
  CHECK_THROWS_WITH_AS(read_csv(missing.str(), {}), doctest::Contains("does not exist"), Error);
  CHECK_THROWS_WITH_AS(csv_header(missing.str()), doctest::Contains("does not exist"), Error);
}

TEST_CASE("write_csv -> read_csv round trip is exact to the bit") {
  Rng rng(123);
  Tensor values(64, 5);
  for (float& v : values) v = static_cast<float>(rng.normal() * std::pow(10.0, rng.below(20)));
  // Edge values: the extremes, a subnormal, -0, and decimals that are not exact in binary.
  values(0, 0) = std::numeric_limits<float>::max();
  values(0, 1) = std::numeric_limits<float>::lowest();
  values(0, 2) = std::numeric_limits<float>::denorm_min();
  values(0, 3) = -0.0f;
  values(0, 4) = 0.1f;
  values(1, 0) = std::numeric_limits<float>::min();
  values(1, 1) = std::nextafter(1.0f, 2.0f);
  values(1, 2) = 1.0f / 3.0f;

  TempPath file("roundtrip.csv");
  const std::vector<std::string> header{"plain", "with, comma", "say \"hi\"", "t1", "t2"};
  write_csv(file.str(), header, values);
  CHECK(csv_header(file.str()) == header);
  const Dataset d = read_csv(file.str(), {"t1", "t2"});
  REQUIRE(d.x.rows() == 64);
  REQUIRE(d.x.cols() == 3);
  REQUIRE(d.y.cols() == 2);
  for (std::size_t r = 0; r < 64; ++r) {
    CHECK(std::memcmp(d.x.row(r), values.row(r), 3 * sizeof(float)) == 0);
    CHECK(std::memcmp(d.y.row(r), values.row(r) + 3, 2 * sizeof(float)) == 0);
  }
  // Shortest round-trip form: 0.1f is written "0.1", not "0.100000001".
  std::ifstream in(file.str());
  std::string line;
  std::getline(in, line);
  CHECK(line == "plain,\"with, comma\",\"say \"\"hi\"\"\",t1,t2");
  std::getline(in, line);
  CHECK(line == "3.4028235e+38,-3.4028235e+38,1e-45,-0,0.1");
  // No temporary file is left behind.
  CHECK_FALSE(std::filesystem::exists(file.str() + ".tmp." + std::to_string(::getpid())));
}

TEST_CASE("write_csv replaces an existing file and rejects what would not read back") {
  TempPath file("replace.csv");
  write_text(file.str(), "old,file\n1,2\n3,4\n5,6\n");
  write_csv(file.str(), {"a"}, Tensor{{7}});
  CHECK(read_csv(file.str(), {}).x == Tensor{{7}});

  CHECK_THROWS_WITH_AS(write_csv(file.str(), {"a", "b"}, Tensor{{1}}),
                       doctest::Contains("2 column names for values of shape (1, 1)"), Error);
  CHECK_THROWS_WITH_AS(write_csv(file.str(), {"a", "a"}, Tensor{{1, 2}}),
                       doctest::Contains("duplicate column name 'a'"), Error);
  CHECK_THROWS_WITH_AS(write_csv(file.str(), {" a"}, Tensor{{1}}),
                       doctest::Contains("would not read back"), Error);
  CHECK_THROWS_WITH_AS(write_csv(file.str(), {"a\nb"}, Tensor{{1}}),
                       doctest::Contains("would not read back"), Error);
  CHECK_THROWS_WITH_AS(
      write_csv(file.str(), {"a", "b"}, Tensor{{1, std::numeric_limits<float>::quiet_NaN()}}),
      doctest::Contains("NaN at row 0, column 1"), Error);
  CHECK(read_csv(file.str(), {}).x == Tensor{{7}});  // the failed writes left the file alone

  const std::string dir = (std::filesystem::temp_directory_path() / "normlab_no_such_dir").string();
  CHECK_THROWS_WITH_AS(write_csv(dir + "/x.csv", {"a"}, Tensor{{1}}),
                       doctest::Contains("cannot create"), Error);
}
