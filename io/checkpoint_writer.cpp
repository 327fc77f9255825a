#include "io/checkpoint_writer.h"

#include <algorithm>
#include <cmath>

#include "io/checkpoint.h"
#include "model/sequential.h"

namespace normlab {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

bool all_finite(const Tensor& t) {
  return std::all_of(t.begin(), t.end(), [](float x) { return std::isfinite(x); });
}

bool model_finite(const Sequential& model) {
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    for (const Variable& v : model.layer_variables(i))
      if (!all_finite(*v.value)) return false;
  return true;
}

}  // namespace

TrainingInterrupted::TrainingInterrupted(fs::path checkpoint, std::int64_t step)
    : Error("interrupted after step " + std::to_string(step) + "; checkpoint written to " +
            checkpoint.string()),
      checkpoint_(std::move(checkpoint)),
      step_(step) {}

CheckpointWriter::CheckpointWriter(fs::path dir, std::int64_t every, json run,
                                   const volatile std::sig_atomic_t* interrupt,
                                   std::function<json()> metadata)
    : dir_(std::move(dir)),
      every_(every),
      run_(std::move(run)),
      interrupt_(interrupt),
      metadata_(std::move(metadata)) {
  check(every_ >= 0, "CheckpointWriter: every must be >= 0, got " + std::to_string(every_));
}

void CheckpointWriter::on_batch_end(Sequential& model, const StepInfo& step) {
  const bool interrupted = interrupt_ != nullptr && *interrupt_ != 0;
  const bool due = every_ > 0 ? step.step % every_ == 0 : step.batch + 1 == step.batches;
  if (!due && !interrupted) return;
  if (std::isfinite(step.batch_loss) && model_finite(model)) {
    last_saved_ = save_checkpoint(model, model.fit_state(), dir_, run_,
                                  metadata_ ? metadata_() : json::object());
    last_step_ = step.step;
  }
  if (interrupted) {
    check(!last_saved_.empty(), "interrupted before any checkpoint could be written");
    throw TrainingInterrupted(last_saved_, last_step_);
  }
}

}  // namespace normlab
