#include "core/config_reader.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace normlab {

std::string describe_json(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  const char* type = value.is_number() ? "" : value.is_string() ? "" : value.type_name();
  return *type ? std::string(type) + " " + text : text;
}

nlohmann::json::parser_callback_t depth_limit(int max_depth) {
  return [max_depth](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > max_depth)  // called for every value: no message unless it fails
      throw Error("arrays and objects nested more than " + std::to_string(max_depth) +
                  " levels deep");
    return true;
  };
}

ConfigReader::ConfigReader(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {
  check(object_.is_object(),
        path_ + ": expected a JSON object {...}, got " + describe_json(object_));
}

std::string ConfigReader::path_of(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool ConfigReader::has(const std::string& key) const {
  const auto it = object_.find(key);
  return it != object_.end() && !it->is_null();
}

const nlohmann::json& ConfigReader::raw(const std::string& key) {
  static const nlohmann::json null_value;
  read_.insert(key);
  const auto it = object_.find(key);
  return it == object_.end() ? null_value : *it;
}

void ConfigReader::fail(const std::string& key, const std::string& expected) const {
  const auto it = object_.find(key);
  throw Error(path_of(key) + ": expected " + expected + ", got " +
              (it == object_.end() ? std::string("nothing") : describe_json(*it)));
}

double ConfigReader::number(const std::string& key, double fallback, double min, double max,
                            bool min_open, bool max_open) {
  const auto& v = raw(key);
  if (v.is_null()) return fallback;
  std::ostringstream interval;
  interval << "a number in " << (min_open ? "(" : "[") << min << ", " << max
           << (max_open ? ")" : "]");
  if (!v.is_number() || v.is_boolean()) fail(key, interval.str());
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < min || x > max || (min_open && x == min) || (max_open && x == max))
    fail(key, interval.str());
  return x;
}

std::int64_t ConfigReader::integer(const std::string& key, std::int64_t fallback, std::int64_t min,
                                   std::int64_t max) {
  const auto& v = raw(key);
  if (v.is_null()) return fallback;
  const std::string expected =
      "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (!v.is_number() || v.is_boolean()) fail(key, expected);
  const double x = v.get<double>();
  if (x != std::floor(x) || x < static_cast<double>(min) || x > static_cast<double>(max))
    fail(key, expected);
  return static_cast<std::int64_t>(x);
}

bool ConfigReader::boolean(const std::string& key, bool fallback) {
  const auto& v = raw(key);
  if (v.is_null()) return fallback;
  if (!v.is_boolean()) fail(key, "true or false");
  return v.get<bool>();
}

std::string ConfigReader::string(const std::string& key, const std::string& fallback,
                                 const std::vector<std::string>& allowed) {
  const auto& v = raw(key);
  if (v.is_null()) return fallback;
  std::string expected = "a string";
  if (!allowed.empty()) {
    expected = "one of";
    for (std::size_t i = 0; i < allowed.size(); ++i)
      expected += (i ? ", \"" : " \"") + allowed[i] + "\"";
  }
  if (!v.is_string()) fail(key, expected);
  const std::string s = v.get<std::string>();
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s) == allowed.end())
    fail(key, expected);
  return s;
}

void ConfigReader::ignore(const std::vector<std::string>& keys) {
  read_.insert(keys.begin(), keys.end());
}

void ConfigReader::require_null(const std::vector<std::string>& keys, const std::string& why) {
  for (const auto& key : keys)
    if (!raw(key).is_null()) fail(key, "null (" + why + ")");
}

void ConfigReader::finish() const {
  for (const auto& [key, value] : object_.items()) {
    if (read_.count(key)) continue;
    std::string known;
    for (const auto& k : read_) known += (known.empty() ? "" : ", ") + k;
    throw Error(path_of(key) + ": unknown key; the known keys here are: " + known);
  }
}

}  // namespace normlab
