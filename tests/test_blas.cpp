// gemm: C = alpha op(A) op(B) + beta C on the chosen backend (NORMLAB_BLAS, else the probe's),
// against a hand-computed product and the naive triple loop gemm_reference, for every transpose
// combination and padded strides; the probe's check, timing and choice (core/gemm_probe.h).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/blas.h"
#include "core/error.h"
#include "core/rng.h"

using namespace normlab;

namespace {

std::vector<float> random_values(std::size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform(-1.0, 1.0));
  return v;
}

}  // namespace

TEST_CASE("gemm on a 2x3 times 3x2 product checked by hand") {
  // [1 2 3]   [1 0]   [1+0+9   0+2+3]   [10 5]
  // [4 5 6] x [0 1] = [4+0+18  0+5+6] = [22 11]
  //           [3 1]
  const std::vector<float> a{1, 2, 3, 4, 5, 6}, b{1, 0, 0, 1, 3, 1};
  std::vector<float> c(4, 100.0f);
  gemm({.m = 2,
        .n = 2,
        .k = 3,
        .a = a.data(),
        .lda = 3,
        .b = b.data(),
        .ldb = 2,
        .c = c.data(),
        .ldc = 2});
  CHECK(c == std::vector<float>{10, 5, 22, 11});  // beta = 0 overwrites C
  // alpha = 2, beta = 1 accumulates: C = 2 A B + C
  gemm({.m = 2,
        .n = 2,
        .k = 3,
        .alpha = 2.0f,
        .a = a.data(),
        .lda = 3,
        .b = b.data(),
        .ldb = 2,
        .beta = 1.0f,
        .c = c.data(),
        .ldc = 2});
  CHECK(c == std::vector<float>{30, 15, 66, 33});
  // A^T B with A stored 3x2: A^T = [[1 3 5], [2 4 6]]; times b = [[1 0], [0 1], [3 1]]
  const std::vector<float> at{1, 2, 3, 4, 5, 6};
  gemm({.trans_a = true,
        .m = 2,
        .n = 2,
        .k = 3,
        .a = at.data(),
        .lda = 2,
        .b = b.data(),
        .ldb = 2,
        .c = c.data(),
        .ldc = 2});
  CHECK(c == std::vector<float>{16, 8, 20, 10});
}

TEST_CASE("gemm agrees with gemm_reference for every transpose and padded leading dimensions") {
  Rng rng(17);
  const std::size_t m = 7, n = 5, k = 9, pad = 3;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      // Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k), each row padded.
      const std::size_t a_rows = ta ? k : m, a_cols = ta ? m : k;
      const std::size_t b_rows = tb ? n : k, b_cols = tb ? k : n;
      const std::size_t lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
      const auto a = random_values(a_rows * lda, rng);
      const auto b = random_values(b_rows * ldb, rng);
      const auto c0 = random_values(m * ldc, rng);
      std::vector<float> c = c0, ref = c0;
      GemmArgs args{.trans_a = ta,
                    .trans_b = tb,
                    .m = m,
                    .n = n,
                    .k = k,
                    .alpha = 0.75f,
                    .a = a.data(),
                    .lda = lda,
                    .b = b.data(),
                    .ldb = ldb,
                    .beta = 0.5f,
                    .c = c.data(),
                    .ldc = ldc};
      gemm(args);
      args.c = ref.data();
      gemm_reference(args);
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j)
          CHECK(c[i * ldc + j] == doctest::Approx(ref[i * ldc + j]).epsilon(1e-5));
        // the padding of C is never written
        for (std::size_t j = n; j < ldc; ++j) CHECK(c[i * ldc + j] == c0[i * ldc + j]);
      }
    }
}

TEST_CASE("gemm with an empty output is a no-op; k = 0 scales C by beta") {
  std::vector<float> c{1, 2};
  gemm({.m = 0, .n = 2, .k = 3, .c = c.data(), .ldc = 2});
  CHECK(c == std::vector<float>{1, 2});
  const std::vector<float> dummy{0};
  gemm({.m = 1,
        .n = 2,
        .k = 0,
        .a = dummy.data(),
        .lda = 1,
        .b = dummy.data(),
        .ldb = 2,
        .beta = 0.5f,
        .c = c.data(),
        .ldc = 2});
  CHECK(c == std::vector<float>{0.5f, 1.0f});
}

namespace {

// A backend with one entry of each product off by 1e-3 of its size: hundreds of times the
// rounding bound, yet far less than a wrong kernel's error; the check must catch it.
void off_by_a_little(const GemmArgs& g) {
  gemm_backends()[0].sgemm(g);
  g.c[0] += 1e-3f * (1.0f + std::fabs(g.c[0]));
}
std::string fake_library() {
  return "a test double";
}
const GemmBackend kWrong{"wrong", fake_library, off_by_a_little};

}  // namespace

TEST_CASE("The probe checks every built backend against gemm_reference and times it") {
  const auto built = gemm_backends();
  REQUIRE(!built.empty());
  CHECK(std::string(built[0].name) == "openblas");
  const GemmProbe probe = probe_gemm(built);
  REQUIRE(probe.measures.size() == built.size());
  for (const GemmMeasure& m : probe.measures) {
    CAPTURE(m.name);
    CHECK(m.correct);
    CHECK(m.error <= 1.0);
    CHECK(m.gflops > 0.1);  // any CPU this runs on does far more
  }
  CHECK(probe.chosen < built.size());
  CHECK(probe.milliseconds > 0.0);
  CHECK(probe.cpu_milliseconds > 0.0);
  CHECK(probe.cpu_milliseconds <= probe.milliseconds + 1.0);  // one thread: CPU <= wall
}

TEST_CASE("A backend with a wrong entry fails the check: never chosen, an error when named") {
  const std::vector<GemmBackend> backends{kWrong, gemm_backends()[0]};
  const GemmProbe probe = probe_gemm(backends);
  CHECK_FALSE(probe.measures[0].correct);
  CHECK(probe.measures[0].error > 1.0);
  CHECK(probe.measures[0].gflops == 0.0);
  CHECK(probe.chosen == 1);

  const GemmSelection automatic = choose_gemm_backend(backends, "auto", "the probe");
  CHECK(std::string(automatic.backend->name) == "openblas");
  CHECK(automatic.running().name == "openblas");
  const GemmSelection forced = choose_gemm_backend(backends, "openblas", "NORMLAB_BLAS");
  CHECK(forced.probe.measures.size() == 1);
  CHECK(forced.chosen_by == "NORMLAB_BLAS");

  std::string message;
  try {
    choose_gemm_backend(backends, "wrong", "--blas");
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message.rfind("--blas: the GEMM backend 'wrong' computes wrong products; wrong (a test "
                      "double) is off by ",
                      0) == 0);
  CHECK(message.find("choose another of: wrong, openblas, auto") != std::string::npos);
  CHECK_THROWS_WITH_AS(choose_gemm_backend(std::span(backends).first(1), "auto", "the probe"),
                       doctest::Contains("no GEMM backend computes correct products"), Error);
  CHECK_THROWS_WITH_AS(choose_gemm_backend(backends, "OpenBLAS", "--blas"),
                       "--blas names the GEMM backend 'OpenBLAS', which this build does not "
                       "have; expected one of: wrong, openblas, auto",
                       Error);
}

TEST_CASE("gemm runs on the backend NORMLAB_BLAS names, else on the probe's choice") {
  const GemmSelection s = gemm_selection();
  const char* env = std::getenv("NORMLAB_BLAS");
  if (env && *env && std::string(env) != "auto") {
    CHECK(s.running().name == env);
    CHECK(s.chosen_by == "NORMLAB_BLAS");
  } else {
    CHECK(s.probe.measures.size() == gemm_backends().size());
  }
  CHECK(gemm_summary().rfind("GEMM: " + s.running().name + " (", 0) == 0);
}
