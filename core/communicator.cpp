#include "core/communicator.h"

#include <cstdlib>

#if NORMLAB_MPI
#include "core/mpi_communicator.h"
#endif

namespace normlab {

Communicator& local_communicator() {
  static LocalCommunicator local;
  return local;
}

#if NORMLAB_MPI
namespace {
// A launcher (Open MPI's mpirun, or a PMI / PMIx one) sets these; a program started by hand
// sets none and stays a single process without starting MPI.
bool started_by_mpi_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}
}  // namespace

World::World(int& argc, char**& argv) : communicator_(&local_communicator()) {
  if (!started_by_mpi_launcher()) return;
  owned_ = std::make_unique<MpiCommunicator>(argc, argv);
  communicator_ = owned_.get();
}

bool World::mpi_built() {
  return true;
}
#else
World::World(int&, char**&) : communicator_(&local_communicator()) {}

bool World::mpi_built() {
  return false;
}
#endif

World::~World() = default;

}  // namespace normlab
