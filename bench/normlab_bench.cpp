// Times one training step of the S / M / L workloads (docs/performance.md) through the public
// API, with the timing protocol of the peer benchmarks:
//   warm-up      at least 3 steps and at least 0.3 s
//   N            steps per repetition, so that one repetition takes about --target-ms
//   repetitions  --reps of N consecutive steps, each giving wall time / N (steady_clock)
// and one tab-separated line per workload on stdout:
//   RESULT <S|M|L> normlab <threads> <median_ms> <min_ms> <max_ms> <reps> <steps_per_rep>
// The loss before and after timing (it must fall: the step really trains) goes to stderr.
//
//   normlab_bench [--threads T] [--workload S|M|L] [--reps R] [--target-ms T] [--predict]
//   normlab_bench [--threads T] --batch B --width H     (bench/sweep.sh)
//   normlab_bench [--threads T] [--workload S|M|L] --paired [--reps R]
//   normlab_bench --machine
//
// Model and data: bench/workloads.h; one batch, drawn once with a fixed seed.
// --predict times inference instead: predict() of one row (S), of 2048 rows in batches of 1024 (L).
// --batch B --width H times one more workload, input H, hidden [H, H], 10 classes, batch B, and
// prints its GEMM rate (the GEMM flops of a step / the step's time) as
//   SWEEP <batch> <width> <threads> <median_ms> <gflops>
// --paired times normlab's step and the floor's (bench/floor_step.h) in one process, in R
// rounds of three blocks of the same step count (normlab, GEMMs + fused Adam, GEMMs alone; a
// round takes about --target-ms, plus a 0.15 s pause before each block), so that each round's
// ratios see the same machine, and prints the medians over rounds:
//   PAIRED <workload> <threads> <normlab_ms> <gemm_adam_ms> <gemm_ms> <x_gemm_adam> <x_gemm> <R>
// and then the step against the machine's limits (a fourth block: the floor's GEMMs alone on
// normlab's gemm(), the fastest correct backend split over the team; bench/peak.h):
//   LIMITS <workload> <threads> <step_gflops> <best_gemm_ms> <x_best_gemm> <peak_gflops>
//          <of_peak>
// --machine prints the machine (CPU model, OpenBLAS' core line, the GEMM summary), the FMA
// peak per vector level at 1 and 2 threads, and per backend the single-thread GFLOP/s of the
// M and L steps' GEMMs (the floor's products on that backend alone):
//   MACHINE <cpu model> <openblas config>
//   PEAK <level> <threads> <gflops>
//   GEMM <backend> <workload> <gflops>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench/floor_step.h"
#include "bench/peak.h"
#include "bench/workloads.h"

namespace {

using namespace normlab;
using namespace normlab::bench;

struct Options {
  int threads = 1;
  std::string workload;  // empty: all
  int reps = 7;
  double target_ms = 300.0;
  bool predict = false;
  bool paired = false;
  bool machine = false;
  std::size_t batch = 0, width = 0;  // --batch / --width: the sweep workload
};

struct Timing {
  double median_ms, min_ms, max_ms;
  int reps, steps_per_rep, warmup_steps;
};

// The peer benchmarks' protocol around one step.
Timing time_steps(const std::function<void()>& step, int reps, double target_ms) {
  const auto warm_start = std::chrono::steady_clock::now();
  int warm = 0;
  while (warm < 3 || seconds_since(warm_start) < 0.3) {
    step();
    ++warm;
  }
  const double per_step_ms = seconds_since(warm_start) * 1e3 / warm;
  const int steps = std::max(1, static_cast<int>(target_ms / per_step_ms + 0.5));
  std::vector<double> ms(static_cast<std::size_t>(reps));
  for (auto& m : ms) {
    const auto start = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) step();
    m = seconds_since(start) * 1e3 / steps;
  }
  std::sort(ms.begin(), ms.end());
  const std::size_t r = ms.size();
  const double median = r % 2 ? ms[r / 2] : 0.5 * (ms[r / 2 - 1] + ms[r / 2]);
  return {median, ms.front(), ms.back(), reps, steps, warm};
}

// The multiply-adds of the step's GEMMs, x2: per Dense layer z = x W, dW = x^T dz, and
// dx = dz W^T for every layer but the first.
double gemm_flops(const Workload& w) {
  double flops = 0.0;
  std::size_t in = w.input;
  std::vector<std::size_t> widths = w.hidden;
  widths.push_back(w.output);
  for (std::size_t l = 0; l < widths.size(); ++l) {
    flops += (l == 0 ? 4.0 : 6.0) * static_cast<double>(w.batch * in * widths[l]);
    in = widths[l];
  }
  return flops;
}

void run_training(const Workload& w, const Options& o) {
  Sequential model = make_model(w);
  Tensor x, y;
  make_batch(w, w.batch, 42, x, y);
  const float loss_before = model.train_on_batch(x, y);
  const Timing t = time_steps([&] { model.train_on_batch(x, y); }, o.reps, o.target_ms);
  const float loss_after = model.train_on_batch(x, y);
  std::fprintf(stderr,
               "normlab %s threads=%d: %zu trainable params, loss %.4f at the first step, %.4f "
               "after %d steps; median %.5f ms/step (min %.5f max %.5f, %d reps x %d steps, %d "
               "warm-up)\n",
               w.name.c_str(), o.threads, model.count_params(true), loss_before, loss_after,
               t.warmup_steps + t.reps * t.steps_per_rep + 1, t.median_ms, t.min_ms, t.max_ms,
               t.reps, t.steps_per_rep, t.warmup_steps);
  if (o.width)
    std::printf("SWEEP\t%zu\t%zu\t%d\t%.6f\t%.3f\n", w.batch, o.width, o.threads, t.median_ms,
                gemm_flops(w) / (t.median_ms * 1e6));
  else
    std::printf("RESULT\t%s\tnormlab\t%d\t%.6f\t%.6f\t%.6f\t%d\t%d\n", w.name.c_str(), o.threads,
                t.median_ms, t.min_ms, t.max_ms, t.reps, t.steps_per_rep);
  std::fflush(stdout);
}

void run_paired(const Workload& w, const Options& o) {
  Sequential model = make_model(w);
  Tensor x, y;
  make_batch(w, w.batch, 42, x, y);
  FloorStep floor(w), best_floor(w, gemm);
  const std::function<void()> steps[4] = {[&] { model.train_on_batch(x, y); },
                                          [&] { floor.run(true); }, [&] { floor.run(false); },
                                          [&] { best_floor.run(false); }};
  // normlab splits its products over its own threads, one OpenBLAS thread in each; the floor
  // runs OpenBLAS' threads.
  const auto blas_threads_for = [&](int k) {
    openblas_set_num_threads(k == 0 || k == 3 ? 1 : o.threads);
  };
  int count = 1;  // steps per block, so that a round (one step of each, x count) takes target_ms
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < 4; ++k) {
      blas_threads_for(k);
      steps[k]();
    }
    count = std::max(1, static_cast<int>(o.target_ms / (seconds_since(start) * 1e3)));
  }
  std::vector<double> ms[4], over_adam, over_gemm, over_best;
  for (int r = 0; r < o.reps; ++r) {
    double block[4];
    for (int k = 0; k < 4; ++k) {
      // OpenBLAS' idle threads poll for ~0.1 s after their last product, so each block starts
      // after a pause in which the other side's threads sleep.
      blas_threads_for(k);
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      const auto start = std::chrono::steady_clock::now();
      for (int s = 0; s < count; ++s) steps[k]();
      block[k] = seconds_since(start) * 1e3 / count;
      ms[k].push_back(block[k]);
    }
    over_adam.push_back(block[0] / block[1]);
    over_gemm.push_back(block[0] / block[2]);
    over_best.push_back(block[0] / block[3]);
  }
  std::printf("PAIRED\t%s\t%d\t%.6f\t%.6f\t%.6f\t%.3f\t%.3f\t%d\n", w.name.c_str(), o.threads,
              median(ms[0]), median(ms[1]), median(ms[2]), median(over_adam), median(over_gemm),
              o.reps);
  const double peak =
      peak_gflops(peak_levels().empty() ? Isa::Avx2 : peak_levels().back(), o.threads);
  const double step_gflops = gemm_flops(w) / (median(ms[0]) * 1e6);
  std::printf("LIMITS\t%s\t%d\t%.3f\t%.6f\t%.3f\t%.3f\t%.3f\n", w.name.c_str(), o.threads,
              step_gflops, median(ms[3]), median(over_best), peak, step_gflops / peak);
  std::fflush(stdout);
}

// The CPU model as /proc/cpuinfo names it.
std::string cpu_model() {
  std::FILE* f = std::fopen("/proc/cpuinfo", "r");
  char line[256];
  std::string model = "unknown";
  while (f && std::fgets(line, sizeof line, f))
    if (std::string(line).rfind("model name", 0) == 0) {
      model = std::string(line).substr(std::string(line).find(':') + 2);
      model.pop_back();  // the newline
      break;
    }
  if (f) std::fclose(f);
  return model;
}

void run_machine() {
  std::printf("MACHINE\t%s\t%s\n%s\n", cpu_model().c_str(), openblas_get_config(),
              gemm_summary().c_str());
  for (Isa isa : peak_levels())
    for (int threads : {1, 2})
      std::printf("PEAK\t%s\t%d\t%.1f\n", isa_name(isa), threads, peak_gflops(isa, threads));
  for (const GemmBackend& backend : gemm_backends())
    for (const Workload& w : {kWorkloads[1], kWorkloads[2]}) {
      FloorStep floor(w, backend.sgemm);
      floor.run(false);  // warm-up
      double best = 1e30;
      for (int r = 0; r < 5; ++r) {
        const auto start = std::chrono::steady_clock::now();
        floor.run(false);
        best = std::min(best, seconds_since(start));
      }
      std::printf("GEMM\t%s\t%s\t%.1f\n", backend.name, w.name.c_str(),
                  gemm_flops(w) / best * 1e-9);
    }
  std::fflush(stdout);
}

// PREDICT <workload> normlab <threads> <rows> <median_ms> <min_ms> <max_ms> <reps> <calls_per_rep>
void run_predict(const Workload& w, std::size_t rows, std::size_t batch_size, const Options& o) {
  Sequential model = make_model(w);
  Tensor x, y;
  make_batch(w, w.batch, 42, x, y);
  for (int i = 0; i < 10; ++i) model.train_on_batch(x, y);  // moving statistics away from 0 / 1
  make_batch(w, rows, 7, x, y);
  const Timing t = time_steps([&] { model.predict(x, batch_size); }, o.reps, o.target_ms);
  std::fprintf(stderr,
               "normlab predict %s threads=%d: %zu rows (batch_size %zu), median %.5f ms/call "
               "(min %.5f max %.5f, %d reps x %d calls) = %.0f rows/s\n",
               w.name.c_str(), o.threads, rows, batch_size, t.median_ms, t.min_ms, t.max_ms, t.reps,
               t.steps_per_rep, static_cast<double>(rows) / (t.median_ms * 1e-3));
  std::printf("PREDICT\t%s\tnormlab\t%d\t%zu\t%.6f\t%.6f\t%.6f\t%d\t%d\n", w.name.c_str(),
              o.threads, rows, t.median_ms, t.min_ms, t.max_ms, t.reps, t.steps_per_rep);
  std::fflush(stdout);
}

[[noreturn]] void usage(const char* program, const std::string& problem) {
  std::fprintf(stderr,
               "%s\nusage: %s [--threads T] [--workload S|M|L] [--reps R] [--target-ms T] "
               "[--predict | --paired]\n       %s [--threads T] --batch B --width H\n       %s "
               "--machine\n",
               problem.c_str(), program, program, program);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--predict" || arg == "--paired" || arg == "--machine") {
      (arg == "--predict" ? o.predict : arg == "--paired" ? o.paired : o.machine) = true;
      continue;
    }
    if (i + 1 >= argc) usage(argv[0], arg + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--threads")
      o.threads = std::atoi(value.c_str());
    else if (arg == "--workload")
      o.workload = value;
    else if (arg == "--reps")
      o.reps = std::atoi(value.c_str());
    else if (arg == "--target-ms")
      o.target_ms = std::atof(value.c_str());
    else if (arg == "--batch")
      o.batch = static_cast<std::size_t>(std::atol(value.c_str()));
    else if (arg == "--width")
      o.width = static_cast<std::size_t>(std::atol(value.c_str()));
    else
      usage(argv[0], "unknown option " + arg);
  }
  if (o.threads < 1) usage(argv[0], "--threads must be >= 1");
  if (o.reps < 1) usage(argv[0], "--reps must be >= 1");
  if (!(o.target_ms > 0.0)) usage(argv[0], "--target-ms must be > 0");
  if (!o.workload.empty() && o.workload != "S" && o.workload != "M" && o.workload != "L")
    usage(argv[0], "--workload must be S, M or L, got " + o.workload);
  if ((o.batch == 0) != (o.width == 0)) usage(argv[0], "--batch and --width go together, both > 0");
  if (o.paired && (o.predict || o.width)) usage(argv[0], "--paired times training steps only");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  set_num_threads(o.threads);
  try {
    if (o.machine) {
      run_machine();
      return 0;
    }
    if (o.predict) {
      if (o.workload.empty() || o.workload == "S") run_predict(kWorkloads[0], 1, 32, o);
      if (o.workload.empty() || o.workload == "L") run_predict(kWorkloads[2], 2048, 1024, o);
      return 0;
    }
    if (o.width) {
      run_training({"sweep", o.width, {o.width, o.width}, 10, o.batch}, o);
      return 0;
    }
    for (const auto& w : kWorkloads)
      if (o.workload.empty() || o.workload == w.name) (o.paired ? run_paired : run_training)(w, o);
  } catch (const Error& e) {
    std::fprintf(stderr, "normlab_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
