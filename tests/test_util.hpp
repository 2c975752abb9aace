#pragma once
// Helpers shared by the tests: datasets and reports from JSONL text written in the test.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "judgebias/judgebias.hpp"

namespace jbtest {

/// Loads JSONL text through the real reader into a dataset.
inline judgebias::loaded_data load_text(std::string_view text, const judgebias::config& cfg = {}) {
  judgebias::reader_options ro;
  ro.on_invalid = cfg.skip_invalid ? judgebias::invalid_policy::skip : judgebias::invalid_policy::stop;
  judgebias::reader rd(ro);
  judgebias::dataset_builder b;
  rd.read_buffer("test.jsonl", text, [&](const judgebias::record& r) { b.add(r); });
  judgebias::dataset_options o;
  o.gold_judges = cfg.gold_judges;
  return {std::move(b).finish(o), rd.stats()};
}

/// Runs the built-in modules named in cfg (default: all) on JSONL text.
inline judgebias::report run_text(std::string_view text, judgebias::config cfg = {}) {
  judgebias::module_registry reg;
  judgebias::register_builtin_modules(reg);
  if (cfg.threads == 0) cfg.threads = 1;
  judgebias::pipeline p(std::move(reg), cfg);
  return p.evaluate(load_text(text, cfg));
}

/// A file's bytes.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The built-in modules.
inline judgebias::module_registry builtin_registry() {
  judgebias::module_registry r;
  judgebias::register_builtin_modules(r);
  return r;
}

/// The fixed report the writers' golden files are made from (tests/data/report/fixed.json).
inline judgebias::report fixed_report() {
  return judgebias::report_from_json(
      nlohmann::ordered_json::parse(slurp(std::string(JUDGEBIAS_TEST_DATA) + "/report/fixed.json")));
}

/// The folder of the real data sets, or empty (and the test skipped, or failed under CI=true).
inline std::filesystem::path real_data_dir() {
  std::filesystem::path dir = std::filesystem::path(JUDGEBIAS_SHARED_DIR) / "data" / "real";
  if (std::filesystem::exists(dir / "llmbar.jsonl")) return dir;
  return {};
}

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string_view(ci) == "true";
}

// A metric's value in a JSON report (`{"value": ...}`).
inline double value(const nlohmann::ordered_json& m) {
  return m["value"].get<double>();
}

}  // namespace jbtest

/// Skips the test when ../shared is absent, except under CI=true where that is a failure.
#define JBTEST_REQUIRE_REAL_DATA(dir)                                                         \
  const std::filesystem::path dir = jbtest::real_data_dir();                                  \
  if (dir.empty()) {                                                                          \
    if (jbtest::in_ci()) FAIL() << "../shared/data/real is missing (required under CI=true)"; \
    GTEST_SKIP() << "../shared/data/real is absent; real-data test skipped";                  \
  }
