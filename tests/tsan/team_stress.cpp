// The thread team (core/parallel.h) under ThreadSanitizer (./run.sh check builds this file with
// clang -fsanitize=thread, alone with core/parallel.cpp and core/blas.cpp): jobs back to back,
// nested jobs, jobs from two threads at once, resizing between jobs, and split products. Exits
// non-zero when a result is wrong; ThreadSanitizer exits non-zero when it sees a data race.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "core/blas.h"
#include "core/parallel.h"

using namespace normlab;

namespace {

bool check(bool ok, const char* what, int threads) {
  if (!ok) std::fprintf(stderr, "team_stress: %s wrong at %d threads\n", what, threads);
  return ok;
}

}  // namespace

int main() {
  bool ok = true;
  for (int threads : {2, 3, 1, 4}) {
    set_num_threads(threads);
    // jobs back to back, each element written by one part
    std::vector<float> data(100'000, 0.0f);
    for (int rep = 0; rep < 200; ++rep)
      parallel_for(data.size(), kElementGrain, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) data[i] += 1.0f;
      });
    bool all = true;
    for (float v : data) all = all && v == 200.0f;
    ok = check(all, "back-to-back jobs", threads) && ok;

    // a job inside a part runs on that part's thread; another thread's jobs run beside them
    std::atomic<long> nested{0}, other{0};
    std::thread caller([&] {
      for (int rep = 0; rep < 100; ++rep)
        parallel_for(64, 1, [&](std::size_t begin, std::size_t end) {
          other += static_cast<long>(end - begin);
        });
    });
    for (int rep = 0; rep < 100; ++rep)
      parallel_for(64, 1, [&](std::size_t, std::size_t) {
        parallel_for(64, 1, [&](std::size_t begin, std::size_t end) {
          nested += static_cast<long>(end - begin);
        });
      });
    caller.join();
    ok = check(other == 100 * 64, "jobs from a second thread", threads) && ok;
    ok = check(nested == 100 * 64 * static_cast<long>(parts_for(64, 1)), "nested jobs", threads) &&
         ok;

    // split products: C = A A with A all 0.5, so every element is 256 * 0.25
    std::vector<float> a(256 * 256, 0.5f), c(256 * 256);
    for (int rep = 0; rep < 20; ++rep)
      gemm({.m = 256,
            .n = 256,
            .k = 256,
            .a = a.data(),
            .lda = 256,
            .b = a.data(),
            .ldb = 256,
            .c = c.data(),
            .ldc = 256});
    all = true;
    for (float v : c) all = all && v == 64.0f;
    ok = check(all, "split products", threads) && ok;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the workers go to sleep
  }
  std::printf("team_stress: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
