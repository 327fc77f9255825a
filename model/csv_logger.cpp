#include "model/csv_logger.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/format.h"
#include "model/sequential.h"

namespace normlab {

void write_log_line(std::FILE* file, const std::string& text, const std::string& filename) {
  check(file != nullptr, filename + ": the log file is not open");
  if (std::fwrite(text.data(), 1, text.size(), file) != text.size() || std::fflush(file) != 0) {
    std::string message = filename + ": cannot write the log (";
    message += std::strerror(errno);
    message += ")";
    throw Error(message);
  }
}

std::FILE* open_log_file(const std::string& filename, const char* mode) {
  std::FILE* file = std::fopen(filename.c_str(), mode);
  if (file == nullptr) {
    std::string message = filename + ": cannot open the log file for writing (";
    message += std::strerror(errno);
    message += ")";
    throw Error(message);
  }
  return file;
}

CSVLogger::CSVLogger(std::string filename, char separator, bool append)
    : filename_(std::move(filename)), separator_(separator), append_(append) {
  check(!filename_.empty(), "CSVLogger: the filename is empty");
}

CSVLogger::~CSVLogger() {
  if (file_) std::fclose(file_);
}

void CSVLogger::on_train_begin(Sequential& model, int) {
  if (file_) std::fclose(file_);
  // Appending to a file that already holds a header: write rows only (Keras' rule).
  std::error_code ec;
  const auto size = std::filesystem::file_size(filename_, ec);  // ec: no such file yet
  write_header_ = !append_ || ec || size == 0;
  file_ = open_log_file(filename_, append_ ? "a" : "w");
  keys_.clear();
  // A fit resumed from a checkpoint starts with the epochs done before it: their rows are
  // written again, so that the file reads as an uninterrupted run's.
  if (append_) return;
  const History history = model.fit_state().history;
  for (std::size_t epoch = 0; epoch < history.epochs(); ++epoch) {
    Logs logs;
    for (const auto& key : history.keys) logs.emplace_back(key, history[key][epoch]);
    on_epoch_end(model, static_cast<int>(epoch), logs);
  }
}

void CSVLogger::on_epoch_end(Sequential&, int epoch, const Logs& logs) {
  std::string line;
  if (keys_.empty()) {
    for (const auto& [name, value] : logs) keys_.push_back(name);
    if (write_header_) {
      line = "epoch";
      for (const auto& key : keys_) line += separator_ + key;
      line += '\n';
    }
  }
  line += std::to_string(epoch);
  // Columns by the first row's keys, so a row never shifts under the header.
  for (const auto& key : keys_) {
    line += separator_;
    line += format_float(log_value(logs, key));
  }
  line += '\n';
  write_log_line(file_, line, filename_);
}

void CSVLogger::on_train_end(Sequential&) {
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

}  // namespace normlab
