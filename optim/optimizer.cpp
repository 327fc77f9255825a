#include "optim/optimizer.h"

#include "core/error.h"

namespace normlab {

void Optimizer::apply(const std::vector<Variable>& vars) {
  // Slots are made at the first call; later calls allocate nothing (slot_names() does, so it
  // is read only then), and every check builds its message only when it fails.
  build_slots(vars);
  const std::size_t per_var = slots_per_variable_;
  if (slots_.size() != vars.size() * per_var)
    throw Error(class_name() + ": called with " + std::to_string(vars.size()) +
                " variables, but its state was made for " +
                std::to_string(per_var ? slots_.size() / per_var : 0));
  const std::int64_t t = iterations_ + 1;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    const Variable& v = vars[i];
    if (v.grad == nullptr)
      throw Error(class_name() + ": variable '" + v.name + "' has no gradient");
    if (per_var > 0) {
      const Tensor& slot = slots_[i * per_var];
      if (slot.rows() != v.value->rows() || slot.cols() != v.value->cols())
        throw Error(class_name() + ": variable " + std::to_string(i) + " '" + v.name +
                    "' has shape " + v.value->shape_string() + ", but its state has shape " +
                    slot.shape_string());
    }
    update(v, per_var ? &slots_[i * per_var] : nullptr, t);
  }
  iterations_ = t;
}

void Optimizer::build_slots(const std::vector<Variable>& vars) {
  if (!slots_.empty()) return;
  slots_per_variable_ = slot_names().size();
  slots_.reserve(vars.size() * slots_per_variable_);
  for (const auto& v : vars)
    for (std::size_t s = 0; s < slots_per_variable_; ++s)
      slots_.emplace_back(v.value->rows(), v.value->cols(), 0.0f);
}

std::vector<Variable> Optimizer::slot_variables() {
  const auto names = slot_names();
  std::vector<Variable> out;
  for (std::size_t i = 0; i < slots_.size(); ++i)
    out.push_back({names[i % names.size()] + "/" + std::to_string(i / names.size()), &slots_[i],
                   nullptr, false});
  return out;
}

}  // namespace normlab
