/// @file
/// @verbatim
/// Reads one JSON object of settings with errors that name the JSON path, what was found and
/// what was expected:
///   model.layers[2].config.momentum: expected a number in [0, 1), got 1.5
/// Every key read is remembered; finish() rejects any key left unread, listing the known ones,
/// so a misspelt option is an error, never silently ignored.
/// @endverbatim
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace normlab {

/// Reads one JSON settings object, naming the JSON path in every error and rejecting unknown keys.
class ConfigReader {
 public:
  /// Reads `object`, which messages name `path` ("model.layers[2].config").
  ConfigReader(const nlohmann::json& object, std::string path);
  /// The reader keeps a reference: a temporary object would dangle.
  ConfigReader(nlohmann::json&&, std::string) = delete;

  /// The JSON path of the object.
  const std::string& path() const { return path_; }
  std::string path_of(const std::string& key) const;  ///< "path.key"
  /// The key is present and not null.
  bool has(const std::string& key) const;
  /// The key is present, null included ("momentum": null is not the same as no momentum).
  bool contains(const std::string& key) const { return object_.contains(key); }
  const nlohmann::json& raw(const std::string& key);  ///< marks the key read; null if absent

  /// A number in the interval; `interval` is how the message shows it ("[0, 1)").
  double number(const std::string& key, double fallback, double min, double max,
                bool min_open = false, bool max_open = false);
  /// An integer in [min, max].
  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max);
  /// A true or false value.
  bool boolean(const std::string& key, bool fallback);
  /// One of `allowed` (any string when `allowed` is empty).
  std::string string(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed = {});
  /// Accepts these keys without reading them (Keras serializes settings normlab has no use
  /// for, such as dtype); `null_only` keys must be null or absent (regularizers, constraints).
  void ignore(const std::vector<std::string>& keys);
  /// Throws, giving `why`, when one of `keys` is present and not null.
  void require_null(const std::vector<std::string>& keys, const std::string& why);
  /// Throws for the first key that no call above asked for.
  void finish() const;

  /// Throws Error: "path.key: expected EXPECTED, got VALUE".
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

 private:
  const nlohmann::json& object_;
  std::string path_;
  std::set<std::string> read_;
};

/// A JSON value as the message shows it: 1.5, "relu", an object cut to 60 characters.
std::string describe_json(const nlohmann::json& value);

/// A json::parse callback that throws Error for arrays and objects nested more than
/// `max_depth` levels deep. Copying and printing a JSON value recurse once per level, so text
/// from an untrusted file is parsed with one (64 levels is ample for configs and model files).
nlohmann::json::parser_callback_t depth_limit(int max_depth = 64);

}  // namespace normlab
