#include "io/checkpoint_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace normlab {

namespace fs = std::filesystem;

CheckpointLock::CheckpointLock(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  check(!ec && fs::is_directory(dir),
        dir.string() + ": cannot create the checkpoint folder" + (ec ? ": " + ec.message() : ""));
  const fs::path file = dir / "lock";
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  check(fd_ >= 0, file.string() + ": cannot open it: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    check(error != EWOULDBLOCK, dir.string() + ": in use by another running normlab (it holds " +
                                    file.string() + "); wait for it to end or use another folder");
    throw Error(file.string() + ": cannot lock it: " + std::strerror(error));
  }
}

CheckpointLock::~CheckpointLock() {
  ::close(fd_);  // releases the lock
}

}  // namespace normlab
