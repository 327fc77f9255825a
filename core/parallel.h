/// @file
/// @verbatim
/// normlab's threads. The products and the long elementwise passes split their work over one
/// team: the calling thread and num_threads() - 1 workers. OpenBLAS runs single-threaded inside
/// each part, so the same threads do every kind of work and none of them polls for a core that
/// another one needs (docs/performance.md, "Threads").
///
/// Every split is by rows, features (columns) or elements, each part writing its own outputs. An
/// elementwise pass does each element's arithmetic as one thread would: the same bits at any thread
/// count. OpenBLAS' sums depend on the rows in a call (as on its own thread count), so a split
/// product agrees with the whole one to rounding. The split depends only on the thread count: runs
/// repeat bit for bit.
/// @endverbatim
#pragma once

#include <cstddef>

namespace normlab {

/// Threads for normlab's work; 0 leaves the current number. The first use takes OpenBLAS'
/// own setting (OPENBLAS_NUM_THREADS, else one per core), and from then on OpenBLAS is kept at
/// one thread.
void set_num_threads(int threads);
/// The number of threads normlab's work is split over.
int num_threads();

/// Calls part(p) for p in [0, parts) on the team, part 0 on the caller, and returns when all are
/// done; more parts than threads run one after another. A call made while the team is busy (from
/// inside a part, or from another thread) runs its parts on its own thread. Parts must not throw.
void run_parts(std::size_t parts, void (*part)(const void* body, std::size_t p), const void* body);

/// The grain of an elementwise pass over floats: below ~16k, handing half to another thread costs
/// more than it saves.
inline constexpr std::size_t kElementGrain = std::size_t{1} << 14;

/// How many parts n units of work split into so that each has at least `grain` units.
std::size_t parts_for(std::size_t n, std::size_t grain);

/// Runs body(begin, end) over a split of [0, n) into parts_for(n, grain) ranges. When every range
/// can hold 16 units, the inner boundaries are multiples of 16 (whole cache lines for floats).
template <class Body>
void parallel_for(std::size_t n, std::size_t grain, const Body& body) {
  const std::size_t parts = parts_for(n, grain);
  if (parts <= 1) {
    if (n > 0) body(std::size_t{0}, n);
    return;
  }
  struct Split {
    std::size_t n, parts, align;
    const Body& body;
  } split{n, parts, n >= 16 * parts ? std::size_t{16} : std::size_t{1}, body};
  run_parts(
      parts,
      [](const void* s, std::size_t p) {
        const Split& sp = *static_cast<const Split*>(s);
        const auto boundary = [&](std::size_t q) {
          return q == sp.parts ? sp.n : sp.n * q / sp.parts / sp.align * sp.align;
        };
        const std::size_t begin = boundary(p), end = boundary(p + 1);
        if (begin < end) sp.body(begin, end);
      },
      &split);
}

/// parallel_for over the n rows of an (n, d) row-major pass, each range at least kElementGrain
/// elements.
template <class Body>
void parallel_for_rows(std::size_t n, std::size_t d, const Body& body) {
  parallel_for(n, (kElementGrain + d - 1) / (d > 0 ? d : 1), body);
}

/// parallel_for over the d columns of an (n, d) row-major pass, each range at least
/// kElementGrain elements: every column's sum over the rows keeps its order.
template <class Body>
void parallel_for_columns(std::size_t n, std::size_t d, const Body& body) {
  parallel_for(d, (kElementGrain + n - 1) / (n > 0 ? n : 1), body);
}

}  // namespace normlab
