/// @file
/// @verbatim
/// The processes that train one model together, and the one collective they need.
///
///   Communicator     rank() in [0, size()); allreduce: every process passes n numbers and
///                    every process gets back, in place, the element-wise sum (max, min) over
///                    all processes, the same bits on each.
///   LocalCommunicator  size 1: every reduction leaves the numbers as they are.
///   World            the processes this program runs as. Started by mpirun (in a build with
///                    MPI, cmake -DNORMLAB_MPI=ON) it starts MPI and holds every process that
///                    mpirun started; otherwise it is this process alone and MPI is never started.
///
/// Data-parallel training (model/sequential.h) shares one communicator between the fit loop,
/// which sums gradients, and BatchNormalization(synchronized=true), which sums per-channel
/// statistics; docs/distributed.md gives the math and the cost of an allreduce.
/// @endverbatim
#pragma once

#include <cstddef>
#include <memory>

namespace normlab {

/// A group of processes and the allreduce collective over them.
class Communicator {
 public:
  virtual ~Communicator() = default;
  /// This process's index, 0 for the one that prints and writes files.
  virtual int rank() const = 0;
  /// The number of processes.
  virtual int size() const = 0;
  /// data[0..n) <- its element-wise sum over all processes (every process calls it).
  virtual void allreduce_sum(float* data, std::size_t n) = 0;
  /// The same in double precision.
  virtual void allreduce_sum(double* data, std::size_t n) = 0;
  ///@{
  /// data[0..n) <- its element-wise maximum (minimum) over all processes.
  virtual void allreduce_max(double* data, std::size_t n) = 0;
  virtual void allreduce_min(double* data, std::size_t n) = 0;
  ///@}
  /// Ends every process with exit code `code` (MPI_Abort) when there are several, so that none
  /// waits forever in a collective for one that failed; one process alone just returns.
  virtual void abort(int /*code*/) {}
};

/// One process alone: rank 0 of 1; every reduction is the identity.
class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(float*, std::size_t) override {}
  void allreduce_sum(double*, std::size_t) override {}
  void allreduce_max(double*, std::size_t) override {}
  void allreduce_min(double*, std::size_t) override {}
};

/// A LocalCommunicator shared by everything that was given no other communicator.
Communicator& local_communicator();

/// The processes this program runs as; at most one World per program, made first in main().
/// Under mpirun, in a build with MPI, it starts MPI (MPI_Init) and finalizes it when destroyed;
/// otherwise its communicator is local_communicator().
class World {
 public:
  /// main()'s arguments, which MPI_Init may read.
  World(int& argc, char**& argv);
  /// Finalizes MPI if it was started.
  ~World();
  /// Not copied: it owns the MPI session.
  World(const World&) = delete;
  /// Not assigned.
  World& operator=(const World&) = delete;
  /// Every process of the program.
  Communicator& communicator() { return *communicator_; }
  /// This build was made with MPI (NORMLAB_MPI).
  static bool mpi_built();

 private:
  std::unique_ptr<Communicator> owned_;  // the MPI communicator, when MPI was started
  Communicator* communicator_;
};

}  // namespace normlab
