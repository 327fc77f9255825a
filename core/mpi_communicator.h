/// @file
/// The Communicator of every process mpirun started (MPI_COMM_WORLD), compiled only in a build
/// with MPI (NORMLAB_MPI). It owns the MPI session: MPI_Init when made, MPI_Finalize when
/// destroyed. Programs reach it through World (core/communicator.h), which makes it under mpirun.
#pragma once

#include "core/communicator.h"

namespace normlab {

/// MPI_COMM_WORLD; allreduce is MPI_Allreduce in place.
class MpiCommunicator final : public Communicator {
 public:
  /// Starts MPI with main()'s arguments; throws if MPI is already running.
  MpiCommunicator(int& argc, char**& argv);
  /// Finalizes MPI.
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;             ///< one session
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;  ///< one session

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum(float* data, std::size_t n) override;
  void allreduce_sum(double* data, std::size_t n) override;
  void allreduce_max(double* data, std::size_t n) override;
  void allreduce_min(double* data, std::size_t n) override;
  void abort(int code) override;

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace normlab
