#include "layers/initializers.h"

#include <cmath>

#include "core/config_reader.h"
#include "core/error.h"

namespace normlab {

namespace {
void fill_uniform(Tensor& t, double limit, Rng& rng) {
  for (float& v : t) v = static_cast<float>(rng.uniform(-limit, limit));
}
}  // namespace

void check_initializer(const std::string& initializer) {
  check(initializer == "glorot_uniform" || initializer == "he_uniform" ||
            initializer == "torch_uniform" || initializer == "zeros" || initializer == "ones",
        "unknown initializer '" + initializer +
            "': expected one of glorot_uniform, he_uniform, torch_uniform, zeros, ones");
}

void initialize(const std::string& initializer, Tensor& t, std::size_t fan_in, std::size_t fan_out,
                Rng& rng) {
  check_initializer(initializer);
  if (initializer == "glorot_uniform")
    fill_uniform(t, std::sqrt(6.0 / static_cast<double>(fan_in + fan_out)), rng);
  else if (initializer == "he_uniform")
    fill_uniform(t, std::sqrt(6.0 / static_cast<double>(fan_in)), rng);
  else if (initializer == "torch_uniform")
    fill_uniform(t, 1.0 / std::sqrt(static_cast<double>(fan_in)), rng);
  else
    t.fill(initializer == "ones" ? 1.0f : 0.0f);
}

std::string read_initializer(ConfigReader& reader, const std::string& key,
                             const std::string& fallback) {
  const auto& v = reader.raw(key);
  if (v.is_null()) return fallback;
  std::string name;
  if (v.is_string()) {
    name = v.get<std::string>();
  } else if (v.is_object() && v.contains("class_name") && v["class_name"].is_string()) {
    // Keras 3 / tf.keras objects: GlorotUniform -> glorot_uniform (seeds are not used).
    static const std::pair<const char*, const char*> classes[] = {
        {"GlorotUniform", "glorot_uniform"},
        {"HeUniform", "he_uniform"},
        {"Zeros", "zeros"},
        {"Ones", "ones"}};
    const std::string cls = v["class_name"].get<std::string>();
    for (const auto& [keras, ours] : classes)
      if (cls == keras) name = ours;
    if (name.empty()) name = cls;
  } else {
    reader.fail(key, "an initializer name or {\"class_name\": ..., \"config\": ...}");
  }
  try {
    check_initializer(name);
  } catch (const Error&) {
    reader.fail(key, "one of glorot_uniform, he_uniform, torch_uniform, zeros, ones");
  }
  return name;
}

}  // namespace normlab
