#include "model/callbacks.h"

#include "core/error.h"

namespace normlab {

float log_value(const Logs& logs, const std::string& key) {
  for (const auto& [name, value] : logs)
    if (name == key) return value;
  throw Error("no log entry named '" + key + "'");
}

void History::append(const Logs& logs) {
  for (const auto& [name, value] : logs) {
    auto [it, inserted] = history.try_emplace(name);
    if (inserted) keys.push_back(name);
    it->second.push_back(value);
  }
}

const std::vector<float>& History::operator[](const std::string& key) const {
  const auto it = history.find(key);
  check(it != history.end(), "History has no key '" + key + "'");
  return it->second;
}

}  // namespace normlab
