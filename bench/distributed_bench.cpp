// Data-parallel training step of the S / M / L workloads (docs/performance.md) over the
// processes mpirun starts, with the time spent in allreduce measured apart:
//   mpirun -np P distributed_bench [--workload S|M|L] [--reps R] [--target-ms T] [--synchronized]
//   strong scaling   the workload's batch B is the global batch: each process trains B / P rows
//   weak scaling     each process trains B rows: the global batch is P B
// Protocol: 3 warm-up steps; N steps per repetition so that one takes about --target-ms (N
// agreed by all processes); R repetitions, each giving wall time / N and allreduce time / N on
// the first process. One tab-separated line per workload and scaling on stdout:
//   RESULT <S|M|L> <strong|weak> <P> <global_batch> <median_ms> <allreduce_ms> <min_ms> <max_ms>
// allreduce_ms is the median over repetitions of the time inside allreduce calls (gradients,
// loss and metrics, and with --synchronized the BatchNormalization statistics), waiting for
// the slower process included.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/workloads.h"

namespace {

using namespace normlab;
using namespace normlab::bench;
using Clock = std::chrono::steady_clock;

// Another communicator, timed: seconds() is the wall time spent inside its allreduce calls.
class TimedCommunicator final : public Communicator {
 public:
  explicit TimedCommunicator(Communicator& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  void allreduce_sum(float* data, std::size_t n) override {
    timed([&] { inner_.allreduce_sum(data, n); });
  }
  void allreduce_sum(double* data, std::size_t n) override {
    timed([&] { inner_.allreduce_sum(data, n); });
  }
  void allreduce_max(double* data, std::size_t n) override {
    timed([&] { inner_.allreduce_max(data, n); });
  }
  void allreduce_min(double* data, std::size_t n) override {
    timed([&] { inner_.allreduce_min(data, n); });
  }
  double seconds() const { return seconds_; }

 private:
  template <class F>
  void timed(F&& reduce) {
    const auto start = Clock::now();
    reduce();
    seconds_ += seconds_since(start);
  }
  Communicator& inner_;
  double seconds_ = 0.0;
};

struct Options {
  std::string workload;  // empty: S and M
  int reps = 5;
  double target_ms = 300.0;
  bool synchronized = false;
};

void run(const Workload& w, bool weak, const Options& o, Communicator& world) {
  TimedCommunicator comm(world);
  const std::size_t p = static_cast<std::size_t>(comm.size()), rank = comm.rank();
  const std::size_t global = weak ? w.batch * p : w.batch;
  const std::size_t rows = global * (rank + 1) / p - global * rank / p;
  Sequential model = make_model(w, {.momentum = 0.99f, .synchronized = o.synchronized}, &comm);
  Tensor x, y;
  make_batch(w, rows, 42 + rank, x, y);
  const auto warm_start = Clock::now();
  for (int i = 0; i < 3; ++i) model.train_on_batch(x, y);
  double steps = std::max(1.0, o.target_ms / (seconds_since(warm_start) * 1e3 / 3));
  world.allreduce_max(&steps, 1);  // the same count on every process
  std::vector<double> step_ms, comm_ms;
  for (int r = 0; r < o.reps; ++r) {
    const double comm_before = comm.seconds();
    const auto start = Clock::now();
    for (int s = 0; s < static_cast<int>(steps); ++s) model.train_on_batch(x, y);
    step_ms.push_back(seconds_since(start) * 1e3 / static_cast<int>(steps));
    comm_ms.push_back((comm.seconds() - comm_before) * 1e3 / static_cast<int>(steps));
  }
  if (rank != 0) return;
  std::printf("RESULT\t%s\t%s\t%zu\t%zu\t%.4f\t%.4f\t%.4f\t%.4f\n", w.name.c_str(),
              weak ? "weak" : "strong", p, global, median(step_ms), median(comm_ms),
              *std::min_element(step_ms.begin(), step_ms.end()),
              *std::max_element(step_ms.begin(), step_ms.end()));
  std::fflush(stdout);
}

[[noreturn]] void usage(const char* program, const std::string& problem) {
  std::fprintf(stderr,
               "%s\nusage: mpirun -np P %s [--workload S|M|L] [--reps R] [--target-ms T] "
               "[--synchronized]\n",
               problem.c_str(), program);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--synchronized") {
      o.synchronized = true;
      continue;
    }
    if (i + 1 >= argc) usage(argv[0], arg + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--workload")
      o.workload = value;
    else if (arg == "--reps")
      o.reps = std::atoi(value.c_str());
    else if (arg == "--target-ms")
      o.target_ms = std::atof(value.c_str());
    else
      usage(argv[0], "unknown option " + arg);
  }
  if (o.reps < 1) usage(argv[0], "--reps must be >= 1");
  if (!(o.target_ms > 0.0)) usage(argv[0], "--target-ms must be > 0");
  if (!o.workload.empty() && o.workload != "S" && o.workload != "M" && o.workload != "L")
    usage(argv[0], "--workload must be S, M or L, got " + o.workload);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  World processes(argc, argv);
  const Options o = parse(argc, argv);
  set_num_threads(1);
  try {
    for (const auto& w : kWorkloads) {
      if (o.workload.empty() ? w.name == "L" : o.workload != w.name) continue;
      for (bool weak : {false, true}) run(w, weak, o, processes.communicator());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "distributed_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
