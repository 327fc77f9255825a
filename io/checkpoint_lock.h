/// @file
/// The lock of a checkpoint folder (io/checkpoint.h): DIR/lock, held with flock by the one run
/// that uses DIR.
#pragma once

#include <filesystem>

namespace normlab {

/// Holds DIR/lock (an flock, released by the system when the process ends, however it ends)
/// so that two runs never read and write one checkpoint folder at the same time.
class CheckpointLock {
 public:
  /// Creates DIR if needed and takes its lock; an Error when another process holds it.
  explicit CheckpointLock(const std::filesystem::path& dir);
  /// Releases the lock.
  ~CheckpointLock();
  CheckpointLock(const CheckpointLock&) = delete;             ///< held by one owner
  CheckpointLock& operator=(const CheckpointLock&) = delete;  ///< held by one owner

 private:
  int fd_ = -1;
};

}  // namespace normlab
