// Runs a built program (the normlab command, the examples) through the shell and captures its
// exit status and output, for tests/test_cli.cpp and tests/test_examples.cpp.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace normlab::testing {

struct ProgramResult {
  int status = -1;  // the exit status; -1 when the program did not exit normally
  std::string out, err;
};

inline std::string read_file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `command` is shell text (arguments quoted by the caller); standard output and error go to
// temporary files, read back after the program ends.
inline ProgramResult run_program(const std::string& command) {
  static int counter = 0;
  const auto stem = std::filesystem::temp_directory_path() /
                    ("normlab_run_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  const std::string out = stem.string() + ".out", err = stem.string() + ".err";
  const int raw = std::system((command + " >'" + out + "' 2>'" + err + "'").c_str());
  ProgramResult r;
  r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file_text(out);
  r.err = read_file_text(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

// `path` in single quotes, one argument of a shell command.
inline std::string quoted(const std::filesystem::path& path) {
  std::string text = "'";  // appended, not "'" + ...: GCC 12 warns wrongly on that (-Wrestrict)
  return text.append(path.string()).append("'");
}

#ifdef NORMLAB_APPS_DIR
// The normlab command, quoted for run_program.
inline const std::string kNormlab = quoted(std::filesystem::path(NORMLAB_APPS_DIR) / "normlab");
#endif

// The lines of `text` that start with `prefix`, in order.
inline std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) lines.push_back(line);
  return lines;
}

}  // namespace normlab::testing
