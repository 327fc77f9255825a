// A fresh, empty temporary directory for one test, removed with everything in it afterwards.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace normlab::testing {

struct TempDir {
  std::filesystem::path path;
  // `name` keeps directories of different tests (and of concurrent test runs) apart.
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("normlab_test_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
  // The same as text, for commands and messages built by concatenation.
  std::string file(const std::string& name) const { return (path / name).string(); }
};

}  // namespace normlab::testing
