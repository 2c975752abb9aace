#pragma once
/// \file The report (REPORT.md) as typed values: per module a status and rows of metrics, plus the
/// run's inputs, settings and diagnostics. JSON is one of its forms (to_json, dump); the others are in
/// writers.hpp. Every form reads these rows: none re-derives the structure from JSON key names.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "judgebias/module.hpp"
#include "judgebias/output.hpp"

namespace judgebias {

class module_registry;

/// What a row's judge and group mean: a judge's metric over all its records, over one `--by task` or
/// `--by run` group, or a metric over all judges together (agreement's `overall`).
enum class row_scope : std::uint8_t { judge, task, run, overall };

/// One metric of one module: where it belongs and its value (REPORT.md "metric").
struct report_row {
  /// The sub-section it is in, as its JSON keys under the module: empty for the module's own
  /// measurements, {"counterfactual"} for verbosity's padded variants, {"kinds", K} for cue kind K.
  std::vector<std::string> section;
  row_scope scope = row_scope::judge;
  std::string judge;          ///< Empty for row_scope::overall.
  std::string group;          ///< The task, or the run as decimal text; empty for judge and overall scopes.
  std::string opponent;       ///< The opponent model of a per-opponent metric (which may be named "").
  bool per_opponent = false;  ///< Whether it is a per-opponent metric (under `by_opponent`).
  std::string metric;         ///< The metric's name.
  judgebias::metric value;

  /// The CSV's `kind`: the sub-section's last key, or "overall" for a metric over all judges.
  std::string_view kind() const noexcept;
};

enum class module_status : std::uint8_t { ok, skipped, error };
std::string_view to_string(module_status s) noexcept;

/// A value of a module's section that is not a metric (its `diagnostics`, a sub-section's `reason`),
/// at its JSON keys under the module, placed after the first `after_rows` rows.
struct section_extra {
  std::vector<std::string> path;
  nlohmann::ordered_json value;
  std::size_t after_rows = 0;
};

/// One module's part of the report.
struct module_section {
  std::string name;
  module_status status = module_status::ok;
  std::string reason;            ///< Why skipped or failed; empty when ok.
  std::vector<report_row> rows;  ///< In the order the JSON holds them.
  std::vector<section_extra> extras;
  /// The module's declarations (its metrics(), when the module is known): what the terminal table
  /// shows, what the HTML charts draw. Not written to JSON.
  std::vector<metric_info> metrics;

  /// The declarations of the metrics in sub-section `kind` ("" for the module's own), or with
  /// `over_all_judges` those reported over all judges together.
  std::vector<const metric_info*> declared(std::string_view kind, bool over_all_judges = false) const;
};

/// The whole report (REPORT.md, schema_version 1).
struct report {
  /// Everything but the modules, as JSON: schema_version, tool, inputs, config, diagnostics and, after
  /// the modules, compare when there is one.
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  std::vector<module_section> modules;  ///< In report order.

  /// The module of that name, or nullptr.
  const module_section* find(std::string_view module) const noexcept;
  /// The report as REPORT.md's JSON value.
  nlohmann::ordered_json to_json() const;
  /// The report as text: two-space indented, numbers in shortest round-trip form, final newline.
  std::string dump() const;
};

/// A report from its JSON value. Sections are read by shape (judges, by_task, by_run, overall,
/// by_opponent; any other object holding those is a sub-section, `kinds` holds one per key); what is
/// not a metric is kept as an extra, and `modules` that is not an object stays in `meta`, so to_json
/// gives back a report judgebias wrote key for key. Of other reports, each metric is rewritten as
/// to_json(metric) writes one, and a module's `status` comes first. Check untrusted input with
/// validate_report (diff.hpp): this trusts the shape.
report report_from_json(const nlohmann::ordered_json& j);
/// The same, with the declarations of `registry`'s modules (the first form uses the built-in ones).
report report_from_json(const nlohmann::ordered_json& j, const module_registry& registry);
/// One module's section from its JSON value (`{"status": ..., ...}`), read as report_from_json reads it.
module_section module_section_from_json(std::string name, const nlohmann::ordered_json& section);

/// Writes the report atomically: a temporary file in the same folder, flushed, renamed into place.
/// Throws io_error; on failure nothing is left at `path`, and a previous file there survives.
void write_json_file(const report& r, const std::string& path);

/// One metric of a report as a flat row: the CSV's columns. Empty strings for what does not apply
/// (no opponent, no task breakdown...). `kind` is the cue kind for the `cue` module, `counterfactual`
/// for padded verbosity variants, `overall` for agreement over all judges (whose `judge` is empty).
struct metric_row {
  std::string module, kind, judge, opponent, task, run, metric;
  std::optional<double> value, ci_low, ci_high, p;
  std::uint64_t n = 0;
  std::string unit, reason;
};

/// Every metric of the modules whose status is ok, in tidy order: per module its own section (judges,
/// then by_task, by_run, overall), then each sub-section in report order.
std::vector<metric_row> tidy_rows(const report& r);

}  // namespace judgebias
