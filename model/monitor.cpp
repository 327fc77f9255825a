#include "model/monitor.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace normlab {

double Monitor::value(const Logs& logs, const std::string& who) const {
  for (const auto& [name, v] : logs)
    if (name == key) return v;
  std::string keys;
  for (const auto& entry : logs) keys += (keys.empty() ? "" : ", ") + entry.first;
  throw Error(who + ": monitor '" + key + "' is not in the epoch's logs (" + keys + ")" +
              (key.starts_with("val_") ? "; give fit validation data, or monitor another" : ""));
}

double Monitor::worst() const {
  const double inf = std::numeric_limits<double>::infinity();
  return maximize ? -inf : inf;
}

Monitor make_monitor(const std::string& key, const std::string& mode, double min_delta,
                     bool by_name, const std::string& who) {
  check(mode == "auto" || mode == "min" || mode == "max",
        who + ": mode must be \"auto\", \"min\" or \"max\", got \"" + mode + "\"");
  check(std::isfinite(min_delta), who + ": min_delta must be a number");
  Monitor m{key, mode == "max", std::abs(min_delta)};
  if (mode != "auto") return m;
  if (by_name) {
    m.maximize = key.find("acc") != std::string::npos;
    return m;
  }
  const std::string metric = key.starts_with("val_") ? key.substr(4) : key;
  if (metric == "loss") return m;
  if (metric.find("accuracy") != std::string::npos) {
    m.maximize = true;
    return m;
  }
  throw Error(who + ": cannot tell whether '" + key +
              "' should be minimized or maximized; give mode \"min\" or \"max\"");
}

}  // namespace normlab
