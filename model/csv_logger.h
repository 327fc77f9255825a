/// @file
/// @verbatim
/// Keras' CSVLogger: one row per finished epoch, streamed to a CSV file.
///
///   epoch,loss,accuracy,val_loss,val_accuracy
///   0,0.2150,0.9100,0.1834,0.9409
///
/// `epoch` is 0-based as Keras writes it; the other columns are the epoch's logs in display
/// order (loss, metrics, then val_*; Keras sorts them by name, a reader by name sees no
/// difference). Values are printed in the shortest form that reads back to the same float.
/// The file is opened (truncated, or appended to with `append`) when training begins, each
/// row is flushed as it is written, so the log can be followed while training runs; the header
/// is written with the first row, and skipped when appending to a file that has one.
/// @endverbatim
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "model/callbacks.h"

namespace normlab {

/// Keras' CSVLogger: one row of logs per finished epoch.
class CSVLogger final : public Callback {
 public:
  /// Logs to `filename`, columns separated by `separator`; `append` keeps an existing file.
  explicit CSVLogger(std::string filename, char separator = ',', bool append = false);
  ~CSVLogger() override;
  CSVLogger(const CSVLogger&) = delete;
  CSVLogger& operator=(const CSVLogger&) = delete;

  /// The log file.
  const std::string& filename() const { return filename_; }

  void on_train_begin(Sequential&, int epochs) override;
  void on_epoch_end(Sequential&, int epoch, const Logs& logs) override;
  void on_train_end(Sequential&) override;

 private:
  std::string filename_;
  char separator_;
  bool append_;
  std::FILE* file_ = nullptr;
  bool write_header_ = true;
  std::vector<std::string> keys_;  // the columns after "epoch", fixed by the first row
};

/// Opens `filename` for writing ("w") or appending ("a"); throws an Error naming it on failure.
std::FILE* open_log_file(const std::string& filename, const char* mode);
/// Writes `text` to `file` and flushes it; throws an Error naming `filename` on failure (disk
/// full, file closed under us).
void write_log_line(std::FILE* file, const std::string& text, const std::string& filename);

}  // namespace normlab
