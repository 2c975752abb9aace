#pragma once
/// \file The report (REPORT.md) as typed values: per module a status and rows of metrics, plus the
/// run's inputs, settings and diagnostics. JSON is one of its forms (to_json, dump); the others are in
/// writers.hpp. Every form reads these rows: none re-derives the structure from JSON key names.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "judgebias/module.hpp"
#include "judgebias/output.hpp"

namespace judgebias {

class module_registry;

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

/// dump()'s text, written piece by piece into `sink` without building the JSON tree of the report: memory
/// in the largest object of one judge, not in the report.
void write_json(const report& r, const text_sink& sink);

/// Writes the report atomically: a temporary file in the same folder, flushed, renamed into place.
/// Throws io_error; on failure nothing is left at `path`, and a previous file there survives.
void write_json_file(const report& r, const std::string& path);

/// One metric of a report as a flat row: the CSV's columns. Empty strings for what does not apply
/// (no model, no opponent, no task breakdown...). `kind` is the cue kind for the `cue` module,
/// `counterfactual` for padded verbosity variants, `overall` for agreement over all judges (whose `judge` is
/// empty).
struct metric_row {
  std::string module, kind, judge, model, opponent, task, run, metric;
  /// Whether the row is per model / per opponent (a model or opponent may be named "").
  bool per_model = false, per_opponent = false;
  std::optional<double> value, ci_low, ci_high, p;
  std::uint64_t n = 0;
  std::string unit, reason;
  std::optional<double> mde;  ///< The minimum detectable effect of a headline metric.
};

/// Every metric of the modules whose status is ok, in tidy order: per module its own section (judges,
/// then by_task, by_run, overall), then each sub-section in report order.
std::vector<metric_row> tidy_rows(const report& r);
/// The rows of tidy_rows, one at a time and without a copy: f(module, row) in tidy order.
void visit_tidy_rows(const report& r, const std::function<void(const module_section&, const report_row&)>& f);
/// One row as tidy_rows writes it.
metric_row tidy_row(const module_section& m, const report_row& row);

}  // namespace judgebias
