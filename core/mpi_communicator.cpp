#include "core/mpi_communicator.h"

#include <mpi.h>

#include <algorithm>
#include <climits>

#include "core/error.h"

namespace normlab {

namespace {
// MPI counts are int: a longer array goes in chunks of at most INT_MAX elements.
template <class T>
void allreduce(T* data, std::size_t n, MPI_Datatype type, MPI_Op op) {
  for (std::size_t begin = 0; begin < n; begin += INT_MAX) {
    const int count = static_cast<int>(std::min<std::size_t>(n - begin, INT_MAX));
    if (MPI_Allreduce(MPI_IN_PLACE, data + begin, count, type, op, MPI_COMM_WORLD) != MPI_SUCCESS)
      throw Error("MPI_Allreduce of " + std::to_string(count) + " numbers failed");
  }
}
}  // namespace

MpiCommunicator::MpiCommunicator(int& argc, char**& argv) {
  int started = 0;
  MPI_Initialized(&started);
  check(!started, "MPI is already running: make one World (or MpiCommunicator) per program");
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  MPI_Finalize();
}

void MpiCommunicator::allreduce_sum(float* data, std::size_t n) {
  allreduce(data, n, MPI_FLOAT, MPI_SUM);
}

void MpiCommunicator::allreduce_sum(double* data, std::size_t n) {
  allreduce(data, n, MPI_DOUBLE, MPI_SUM);
}

void MpiCommunicator::allreduce_max(double* data, std::size_t n) {
  allreduce(data, n, MPI_DOUBLE, MPI_MAX);
}

void MpiCommunicator::allreduce_min(double* data, std::size_t n) {
  allreduce(data, n, MPI_DOUBLE, MPI_MIN);
}

void MpiCommunicator::abort(int code) {
  if (size_ > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

}  // namespace normlab
