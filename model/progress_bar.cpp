#include "model/progress_bar.h"

#include <unistd.h>

#include <string>

namespace normlab {

std::string format_logs(const Logs& logs) {
  std::string out;
  char value[32];
  for (const auto& [name, v] : logs) {
    std::snprintf(value, sizeof value, "%.4f", static_cast<double>(v));
    out += (out.empty() ? "" : " - ") + name + ": " + value;
  }
  return out;
}

ProgressBar::ProgressBar(int verbose, std::FILE* out)
    : verbose_(verbose), out_(out), terminal_(isatty(fileno(out)) != 0) {}

void ProgressBar::on_train_begin(Sequential&, int epochs) {
  epochs_ = epochs;
}

void ProgressBar::on_epoch_begin(Sequential&, int epoch, std::size_t batches) {
  batches_ = batches;
  start_ = last_draw_ = std::chrono::steady_clock::now();
  if (verbose_ == 1) std::fprintf(out_, "Epoch %d/%d\n", epoch + 1, epochs_);
}

void ProgressBar::on_batch_end(Sequential&, const StepInfo& step) {
  if (verbose_ != 1 || !terminal_) return;
  // Redraw at most every 50 ms so a fast epoch is not slowed by the terminal.
  const auto now = std::chrono::steady_clock::now();
  if (step.batch + 1 < step.batches && now - last_draw_ < std::chrono::milliseconds(50)) return;
  last_draw_ = now;
  draw(step.batch + 1, step.running, false);
}

void ProgressBar::on_epoch_end(Sequential&, int epoch, const Logs& logs) {
  if (verbose_ == 2) std::fprintf(out_, "Epoch %d/%d\n", epoch + 1, epochs_);
  draw(batches_, logs, true);
}

void ProgressBar::draw(std::size_t done, const Logs& logs, bool final) {
  using namespace std::chrono;
  const double seconds = duration<double>(steady_clock::now() - start_).count();
  const double per_step_ms = done ? seconds * 1000.0 / static_cast<double>(done) : 0.0;
  const std::string total = std::to_string(batches_);
  std::string line = std::string(total.size() - std::to_string(done).size(), ' ') +
                     std::to_string(done) + "/" + total;
  if (verbose_ == 1) {
    const std::size_t width = 30, filled = batches_ ? width * done / batches_ : width;
    std::string bar(width, '.');
    for (std::size_t i = 0; i < filled; ++i) bar[i] = '=';
    if (filled < width) bar[filled] = '>';
    line += " [" + bar + "]";
  }
  char timing[64];
  std::snprintf(timing, sizeof timing, " - %.0fs %.0f%s/step", seconds,
                per_step_ms >= 1.0 ? per_step_ms : per_step_ms * 1000.0,
                per_step_ms >= 1.0 ? "ms" : "us");
  line += timing;
  if (!logs.empty()) line += " - " + format_logs(logs);
  if (terminal_ && verbose_ == 1)
    std::fprintf(out_, "\r%s\033[K%s", line.c_str(), final ? "\n" : "");
  else if (final)
    std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

}  // namespace normlab
