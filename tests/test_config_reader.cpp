// ConfigReader: typed reads with defaults, range checks and messages naming the JSON path, what
// was found and what was expected; unknown keys rejected.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/config_reader.h"
#include "core/error.h"

using namespace normlab;
using nlohmann::json;

TEST_CASE("ConfigReader reads present values and falls back for absent or null ones") {
  const json j = {{"momentum", 0.95},
                  {"units", 64},
                  {"center", false},
                  {"activation", "relu"},
                  {"epsilon", nullptr}};
  ConfigReader r(j, "model.layers[2].config");
  CHECK(r.path_of("momentum") == "model.layers[2].config.momentum");
  CHECK(r.has("momentum"));
  CHECK_FALSE(r.has("epsilon"));  // null counts as absent
  CHECK_FALSE(r.has("scale"));
  CHECK(r.number("momentum", 0.99, 0.0, 1.0, false, true) == 0.95);
  CHECK(r.number("epsilon", 1e-3, 0.0, 1.0, true) == 1e-3);
  CHECK(r.integer("units", 1, 1, 100) == 64);
  CHECK(r.boolean("center", true) == false);
  CHECK(r.boolean("scale", true) == true);
  CHECK(r.string("activation", "linear", {"linear", "relu"}) == "relu");
  CHECK_NOTHROW(r.finish());
  const json empty = json::object();
  CHECK(ConfigReader(empty, "").path_of("units") == "units");
}

TEST_CASE("ConfigReader range errors: path, interval and the value found") {
  const json j = {{"momentum", 1.5}, {"low", 0.0}, {"units", 2.5},  {"big", 1000},
                  {"flag", "yes"},   {"name", 3},  {"act", "gelu"}, {"truth", true}};
  ConfigReader r(j, "model.layers[2].config");
  CHECK_THROWS_WITH_AS(r.number("momentum", 0.99, 0.0, 1.0, false, true),
                       "model.layers[2].config.momentum: expected a number in [0, 1), got 1.5",
                       Error);
  CHECK_THROWS_WITH_AS(r.number("low", 1e-3, 0.0, 1.0, true, false),
                       "model.layers[2].config.low: expected a number in (0, 1], got 0.0", Error);
  CHECK_THROWS_WITH_AS(r.number("truth", 0.5, 0.0, 1.0),
                       doctest::Contains("expected a number in [0, 1], got boolean true"), Error);
  CHECK_THROWS_WITH_AS(r.integer("units", 1, 1, 100),
                       "model.layers[2].config.units: expected an integer in [1, 100], got 2.5",
                       Error);
  CHECK_THROWS_WITH_AS(r.integer("big", 1, 1, 100),
                       doctest::Contains("expected an integer in [1, 100], got 1000"), Error);
  CHECK_THROWS_WITH_AS(r.boolean("flag", false),
                       "model.layers[2].config.flag: expected true or false, got \"yes\"", Error);
  CHECK_THROWS_WITH_AS(r.string("name", ""),
                       "model.layers[2].config.name: expected a string, got 3", Error);
  CHECK_THROWS_WITH_AS(r.string("act", "linear", {"linear", "relu"}),
                       "model.layers[2].config.act: expected one of \"linear\", \"relu\", got "
                       "\"gelu\"",
                       Error);
}

TEST_CASE("ConfigReader::finish rejects keys nobody read, listing the known ones") {
  const json j = {{"units", 4}, {"unit", 5}};
  ConfigReader r(j, "model.layers[0].config");
  r.integer("units", 1, 1, 10);
  r.boolean("use_bias", true);  // known although absent
  CHECK_THROWS_WITH_AS(r.finish(),
                       "model.layers[0].config.unit: unknown key; the known keys here are: units, "
                       "use_bias",
                       Error);
  r.ignore({"unit"});
  CHECK_NOTHROW(r.finish());
}

TEST_CASE("ConfigReader::require_null and raw") {
  const json j = {{"kernel_regularizer", {{"class_name", "L2"}}}, {"bias_regularizer", nullptr}};
  ConfigReader r(j, "cfg");
  CHECK_THROWS_WITH_AS(r.require_null({"bias_regularizer", "kernel_regularizer"}, "unsupported"),
                       "cfg.kernel_regularizer: expected null (unsupported), got object "
                       "{\"class_name\":\"L2\"}",
                       Error);
  CHECK(r.raw("absent").is_null());
  CHECK_NOTHROW(r.finish());  // every key was asked for
  CHECK_THROWS_WITH_AS(r.fail("absent", "a positive integer"),
                       "cfg.absent: expected a positive integer, got nothing", Error);
}

TEST_CASE("ConfigReader needs an object; describe_json shows values briefly") {
  const json array = json::array({1, 2});
  CHECK_THROWS_WITH_AS(ConfigReader(array, "model.layers[1].config"),
                       "model.layers[1].config: expected a JSON object {...}, got array [1,2]",
                       Error);
  CHECK(describe_json(1.5) == "1.5");
  CHECK(describe_json("relu") == "\"relu\"");
  CHECK(describe_json(true) == "boolean true");
  CHECK(describe_json(json()) == "null");
  const std::string long_text = describe_json(json(std::string(100, 'a')));
  CHECK(long_text.size() == 60);
  CHECK(long_text.substr(57) == "...");
}
