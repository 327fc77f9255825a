#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace normlab {

namespace fs = std::filesystem;

namespace {

// Steps 1 and 2: all of `bytes` to a new file, flushed to the disk; `created` is set once the
// file exists, so that the caller can remove it after a failure.
void write_synced(const fs::path& file, std::string_view bytes, bool& created) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  check(fd >= 0, file.string() + ": cannot create it: " + std::strerror(errno));
  created = true;
  std::size_t done = 0;
  int error = 0;
  while (done < bytes.size() && error == 0) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n >= 0)
      done += static_cast<std::size_t>(n);
    else if (errno != EINTR)
      error = errno;
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  check(error == 0, file.string() + ": writing failed: " + std::strerror(error));
}

void rename_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  check(!ec, from.string() + ": cannot rename it to " + to.string() + ": " + ec.message());
}

}  // namespace

fs::path temporary_path(const fs::path& path) {
  return path.string() + ".tmp-" + std::to_string(::getpid());
}

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  check(fd >= 0, dir.string() + ": cannot open the directory: " + std::strerror(errno));
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  check(result == 0, dir.string() + ": cannot flush the directory: " + std::strerror(error));
}

void write_files_atomically(const fs::path& dir, const std::vector<FileBytes>& files) {
  std::vector<fs::path> temporary;
  std::vector<bool> left(files.size(), false);  // a temporary file exists and is not renamed
  for (const FileBytes& f : files) temporary.push_back(temporary_path(dir / f.name));
  try {
    for (std::size_t i = 0; i < files.size(); ++i) {
      bool created = false;
      try {
        write_synced(temporary[i], files[i].bytes, created);
      } catch (const Error&) {
        left[i] = created;
        throw;
      }
      left[i] = true;
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      rename_file(temporary[i], dir / files[i].name);
      left[i] = false;
    }
  } catch (const Error&) {
    std::error_code ec;
    for (std::size_t i = 0; i < files.size(); ++i)
      if (left[i]) fs::remove(temporary[i], ec);
    throw;
  }
  sync_directory(dir.empty() ? fs::path(".") : dir);
}

void write_file_atomically(const fs::path& file, std::string_view bytes) {
  write_files_atomically(file.parent_path(), {{file.filename().string(), bytes}});
}

std::string read_file(const fs::path& file, std::uintmax_t max_bytes, std::string_view what,
                      std::string_view hint) {
  const std::string suffix = hint.empty() ? "" : " (" + std::string(hint) + ")";
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file, ec);
  check(!ec, file.string() + ": cannot read it: " + ec.message() + suffix);
  check(size <= max_bytes, file.string() + ": " + std::to_string(size) + " bytes; normlab reads " +
                               std::string(what) + " of at most " + std::to_string(max_bytes) +
                               " bytes");
  std::ifstream in(file, std::ios::binary);
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  check(in.gcount() == static_cast<std::streamsize>(size), file.string() + ": cannot read it");
  return bytes;
}

}  // namespace normlab
