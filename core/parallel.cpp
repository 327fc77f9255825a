#include "core/parallel.h"

#include <cblas.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace normlab {

namespace {

// A hint inside a polling loop: frees the core's shared resources for a few cycles.
void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// The caller and size - 1 workers. A job is published by bumping `generation_`; each worker runs
// its part and decrements `running_`. Between jobs a worker polls for a while (the passes of a
// training step follow each other within microseconds) and then sleeps on the generation.
class Team {
 public:
  ~Team() { stop(); }

  int size() {
    const int size = size_.load(std::memory_order_acquire);
    return size > 0 ? size : resize(0);
  }

  // threads = 0: OpenBLAS' own setting, unless a size was set already.
  int resize(int threads) {
    std::lock_guard lock(busy_);
    if (threads == 0) {
      if (size_.load() > 0) return size_.load();
      threads = openblas_get_num_threads();
    }
    openblas_set_num_threads(1);
    stop();
    const int size = threads < 1 ? 1 : threads;
    for (int i = 1; i < size; ++i)
      workers_.emplace_back([this, i, size, seen = generation_.load()] { work(i, size, seen); });
    size_.store(size, std::memory_order_release);
    return size;
  }

  void run(std::size_t parts, void (*part)(const void*, std::size_t), const void* body) {
    std::unique_lock lock(busy_, std::defer_lock);
    if (in_part_ || !lock.try_lock() || workers_.empty()) {
      for (std::size_t p = 0; p < parts; ++p) part(body, p);
      return;
    }
    const std::size_t team = workers_.size() + 1;
    part_ = part;
    body_ = body;
    parts_ = parts;
    running_.store(static_cast<unsigned>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();  // a system call only when a worker sleeps
    in_part_ = true;
    for (std::size_t p = 0; p < parts; p += team) part(body, p);
    in_part_ = false;
    for (unsigned spins = 0; running_.load(std::memory_order_acquire) != 0; ++spins)
      spins < 4096 ? cpu_relax() : std::this_thread::yield();
  }

 private:
  void work(std::size_t id, std::size_t team, std::uint32_t seen) {
    in_part_ = true;  // a product inside a part runs on its own thread
    for (;;) {
      const std::uint32_t now = wait_for_job(seen);
      seen = now;
      if (stopping_.load(std::memory_order_acquire)) return;
      for (std::size_t p = id; p < parts_; p += team) part_(body_, p);
      running_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  // Polls for about a millisecond, then sleeps until the generation moves on.
  std::uint32_t wait_for_job(std::uint32_t seen) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
    for (unsigned spins = 1;; ++spins) {
      const std::uint32_t now = generation_.load(std::memory_order_acquire);
      if (now != seen) return now;
      cpu_relax();
      if (spins % 256 == 0 && std::chrono::steady_clock::now() > until) {
        generation_.wait(seen, std::memory_order_acquire);
        spins = 0;
      }
    }
  }

  void stop() {
    if (workers_.empty()) return;
    stopping_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
    stopping_.store(false, std::memory_order_relaxed);
  }

  std::atomic<int> size_{0};  // 0 until first used or set
  std::vector<std::thread> workers_;
  std::mutex busy_;  // held by the thread whose job the team runs
  std::atomic<std::uint32_t> generation_{0};
  std::atomic<unsigned> running_{0};
  std::atomic<bool> stopping_{false};
  void (*part_)(const void*, std::size_t) = nullptr;
  const void* body_ = nullptr;
  std::size_t parts_ = 0;
  static thread_local bool in_part_;
};

thread_local bool Team::in_part_ = false;

Team& team() {
  static Team t;
  return t;
}

}  // namespace

void set_num_threads(int threads) {
  if (threads > 0) team().resize(threads);
}

int num_threads() {
  return team().size();
}

void run_parts(std::size_t parts, void (*part)(const void*, std::size_t), const void* body) {
  team().run(parts, part, body);
}

std::size_t parts_for(std::size_t n, std::size_t grain) {
  const std::size_t most = n / (grain > 0 ? grain : 1);
  if (most < 2) return 1;  // small work does not look at the team
  const auto threads = static_cast<std::size_t>(num_threads());
  return most < threads ? most : threads;
}

}  // namespace normlab
