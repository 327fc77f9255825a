/// @file
/// @verbatim
/// Files written so that a reader sees the old file or the whole new one, never a part:
///   1. write FILE.tmp-PID beside the target (same folder, so the rename cannot cross disks)
///   2. fsync it           the bytes are on the disk before the name points at them
///   3. rename it to FILE  atomic within one folder
///   4. fsync the folder   the rename itself survives a crash
/// and whole files read with a bound on their size, so a corrupt or hostile file cannot make
/// normlab allocate more than the caller expects.
/// @endverbatim
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace normlab {

/// One file of an atomic write: its name in the folder and its bytes.
struct FileBytes {
  std::string name;        ///< "weights.bin": a name in the folder, not a path
  std::string_view bytes;  ///< what the file holds; the caller keeps it alive for the call
};

/// Writes `files` into `dir` by steps 1-4: every file to its temporary name first, then the
/// renames in the order given (a file another names goes before it), then one fsync of the
/// folder. On an error the temporary files are removed and the message names the file.
void write_files_atomically(const std::filesystem::path& dir, const std::vector<FileBytes>& files);
/// The same for one file.
void write_file_atomically(const std::filesystem::path& file, std::string_view bytes);
/// "PATH.tmp-PID": where this process builds `path` before renaming it into place.
std::filesystem::path temporary_path(const std::filesystem::path& path);
/// Step 4 alone, after renaming something into `dir` by other means (a folder).
void sync_directory(const std::filesystem::path& dir);

/// The whole of `file`. Errors: "FILE: cannot read it: REASON[ (hint)]" when it is missing or
/// not a file; "FILE: N bytes; normlab reads WHAT of at most MAX bytes" when it is larger.
std::string read_file(const std::filesystem::path& file, std::uintmax_t max_bytes,
                      std::string_view what, std::string_view hint = {});

}  // namespace normlab
