#include "model/step_logger.h"

#include "core/error.h"
#include "core/format.h"
#include "layers/batch_normalization.h"
#include "model/csv_logger.h"
#include "model/sequential.h"

namespace normlab {

StepLogger::StepLogger(std::string filename) : filename_(std::move(filename)) {
  check(!filename_.empty(), "StepLogger: the filename is empty");
}

StepLogger::~StepLogger() {
  if (file_) std::fclose(file_);
}

void StepLogger::on_train_begin(Sequential& model, int) {
  if (file_) std::fclose(file_);
  file_ = open_log_file(filename_, "w");
  line_ = "epoch,batch,step,loss";
  for (const auto& [index, bn] : model.layers_of_kind<BatchNormalization>())
    for (const char* stat : {"moving_mean", "moving_variance"})
      for (std::size_t j = 0; j < bn->output_dim(); ++j)
        line_ += "," + bn->name() + "/" + stat + "[" + std::to_string(j) + "]";
  line_ += '\n';
  write_log_line(file_, line_, filename_);
}

void StepLogger::on_batch_end(Sequential& model, const StepInfo& step) {
  line_ = std::to_string(step.epoch) + "," + std::to_string(step.batch) + "," +
          std::to_string(step.step) + "," + format_float(step.batch_loss);
  for (const auto& [index, bn] : model.layers_of_kind<BatchNormalization>())
    for (const Tensor* stat : {&bn->moving_mean, &bn->moving_variance})
      for (float v : *stat) {
        line_ += ',';
        line_ += format_float(v);
      }
  line_ += '\n';
  write_log_line(file_, line_, filename_);
}

void StepLogger::on_train_end(Sequential&) {
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

}  // namespace normlab
