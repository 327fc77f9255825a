#include "io/weight_files.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "core/config_reader.h"
#include "core/error.h"
#include "core/text.h"

namespace normlab {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kStatePath = "userDefinedMetadata.normlab.layers";
// Keras' non-trainable weights; any other non-trainable array of a layer is normlab state.
const std::set<std::string> kKerasStateNames = {"moving_mean", "moving_variance"};

// At most 20 names, for messages.
std::string join_names(const std::vector<std::string>& names) {
  return names.empty() ? "none" : join(names, 20);
}

// A file of the manifest must be DIR/name itself or a symbolic link to a file in DIR.
void check_inside(const fs::path& dir, const fs::path& file) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(file, ec);
  check(fs::exists(status), file.string() + ": missing (model.json lists it in weightsManifest)");
  if (fs::is_symlink(status)) {
    const fs::path target = fs::canonical(file, ec);
    std::error_code dir_ec;
    const fs::path base = fs::canonical(dir, dir_ec);
    check(!ec && !dir_ec && target.parent_path() == base,
          file.string() + ": a symbolic link leading out of the model's directory" +
              (ec ? std::string() : " (to " + target.string() + ")"));
  }
  check(fs::is_regular_file(file, ec), file.string() + ": not a regular file");
}

}  // namespace

bool is_keras_weight(const Variable& v) {
  return v.trainable() || kKerasStateNames.count(v.name) > 0;
}

std::vector<std::size_t> shape_of(const Variable& v) {
  if (v.vector) return {v.value->cols()};
  return {v.value->rows(), v.value->cols()};
}

std::uintmax_t WeightFiles::size(const std::string& name) const {
  if (memory) {
    const auto it = memory->find(name);
    check(it != memory->end(), name + ": missing (model.json lists it in weightsManifest)");
    return it->second.size();
  }
  const fs::path file = path(name);
  check_inside(dir, file);
  std::error_code ec;
  const std::uintmax_t bytes = fs::file_size(file, ec);
  check(!ec, file.string() + ": cannot read it: " + ec.message());
  return bytes;
}

void WeightFiles::read(const std::string& name, char* out, std::uintmax_t bytes) const {
  if (memory) {
    std::copy_n(memory->at(name).data(), bytes, out);
    return;
  }
  std::ifstream in(path(name), std::ios::binary);
  in.read(out, static_cast<std::streamsize>(bytes));
  check(in.gcount() == static_cast<std::streamsize>(bytes),
        path(name).string() + ": cannot read it");
}

namespace {

// Every group's files, read one after another. Each group's files must hold exactly the bytes
// of its weights, which is checked for all of them before the data are allocated.
std::vector<float> read_weight_data(const WeightFiles& files, const ModelJson& m) {
  std::vector<std::pair<std::string, std::uintmax_t>> sizes;
  for (const auto& group : m.groups) {
    std::uintmax_t bytes = 0;
    std::string names;
    for (const auto& name : group.paths) {
      const std::uintmax_t size = files.size(name);
      bytes += size;
      if (!names.empty()) names += " + ";
      names += files.path(name).string();
      sizes.emplace_back(name, size);
    }
    check(bytes == group.bytes, names + ": " + std::to_string(bytes) + " bytes, but " + kModelFile +
                                    "'s " + group.where + " lists " +
                                    std::to_string(group.bytes / sizeof(float)) +
                                    " float32 values (" + std::to_string(group.bytes) + " bytes)");
  }
  std::vector<float> data(m.total_floats);
  char* out = reinterpret_cast<char*>(data.data());
  for (const auto& [name, size] : sizes) {
    files.read(name, out, size);
    out += size;
  }
  return data;
}

// Where each variable of a model comes from: a manifest weight or a normlab state array.
struct Assignment {
  Tensor* tensor;
  const ManifestWeight* weight;  // null for state
  const json* state;
};

// Matches the variables of `target` to the file's weights. `saved`, the model the file's
// topology describes, is index-aligned with `target` and names the weights ("<layer>/<name>").
std::vector<Assignment> match_weights(const Sequential& target, const Sequential& saved,
                                      const ModelJson& m) {
  std::map<std::string, const ManifestWeight*> by_name;
  std::vector<std::string> listed;
  for (const auto& w : m.weights) {
    if (w.optimizer) continue;
    const auto [it, fresh] = by_name.emplace(w.name, &w);
    check(fresh, w.where + ".name: weight '" + w.name + "' is listed twice (also at " +
                     it->second->where + ")");
    listed.push_back(w.name);
  }
  std::vector<Assignment> plan;
  std::vector<std::string> needed;  // in layer order, for messages
  std::set<std::string> used, used_state;
  for (std::size_t i = 0; i < target.num_layers(); ++i) {
    const std::string& saved_name = saved.layer(i).name();
    const std::string layer = "layer " + std::to_string(i) + " '" + target.layer(i).name() + "' (" +
                              target.layer(i).class_name() + ")";
    for (const Variable& v : target.layer_variables(i)) {
      const std::vector<std::size_t> expected = shape_of(v);
      const std::string name = saved_name + "/" + v.name;
      if (!is_keras_weight(v)) {
        const std::string where = kStatePath + "." + saved_name + ".state." + v.name;
        const auto layer_state = m.layer_state.find(saved_name);
        const json* values = layer_state != m.layer_state.end() && layer_state->contains(v.name)
                                 ? &(*layer_state)[v.name]
                                 : nullptr;
        check(values != nullptr,
              where + ": missing; " + layer + " keeps its '" + v.name + "' there");
        check(values->is_array() && values->size() == v.value->size() &&
                  std::all_of(values->begin(), values->end(),
                              [](const json& x) { return x.is_number(); }),
              where + ": expected " + std::to_string(v.value->size()) + " numbers (" + layer +
                  ", shape " + shape_text(expected) + "), got " + describe_json(*values));
        used_state.insert(name);
        plan.push_back({v.value, nullptr, values});
        continue;
      }
      needed.push_back(name);
      used.insert(name);
      const auto it = by_name.find(name);
      check(it != by_name.end(), "weightsManifest: no weight '" + name + "', which " + layer +
                                     " needs with shape " + shape_text(expected) +
                                     "; the manifest has: " + join_names(listed));
      check(it->second->shape == expected, it->second->where + ": weight '" + name +
                                               "' has shape " + shape_text(it->second->shape) +
                                               ", but " + layer + " expects " +
                                               shape_text(expected));
      plan.push_back({v.value, it->second, nullptr});
    }
  }
  for (const auto& w : m.weights)
    check(w.optimizer || used.count(w.name) > 0,
          w.where + ": weight '" + w.name + "' belongs to no layer of the model, whose weights " +
              "are: " + join_names(needed));
  for (const auto& [layer, arrays] : m.layer_state.items())
    for (const auto& [array, values] : arrays.items())
      check(used_state.count(layer + "/" + array) > 0,
            kStatePath + "." + layer + ".state." + array + ": belongs to no layer of the model");
  return plan;
}

}  // namespace

void copy_weights(Sequential& target, const Sequential& saved, const ModelJson& m,
                  const WeightFiles& files) {
  const auto plan = with_context(files.path(kModelFile).string(),
                                 [&] { return match_weights(target, saved, m); });
  const std::vector<float> data = read_weight_data(files, m);
  for (const auto& a : plan) {
    if (a.weight) {
      std::copy_n(data.data() + a.weight->offset, a.weight->count, a.tensor->data());
    } else {
      for (std::size_t k = 0; k < a.tensor->size(); ++k)
        (*a.tensor)[k] = (*a.state)[k].get<float>();
    }
  }
}

}  // namespace normlab
