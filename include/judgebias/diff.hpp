#pragma once
/// \file Reading a saved JSON report back, checked, and the change between two reports
/// (`judgebias diff OLD.json NEW.json`).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "judgebias/report.hpp"

namespace judgebias {

/// Reads and checks a JSON report file (parse_report). Throws io_error "PATH: cannot open: REASON"
/// (a missing file, a folder) or "PATH: cannot read: REASON", and data_error as parse_report does.
report read_report(const std::string& path);

/// Parses and checks report text; `name` starts every message. Throws data_error:
/// "NAME:LINE:COLUMN: not JSON: REASON", "NAME:LINE:COLUMN: number out of range: TEXT" (beyond a
/// double), or validate_report's "NAME: not a judgebias report: POINTER: EXPECTED".
report parse_report(std::string_view text, std::string_view name);

/// Checks what the diff and tidy_rows read against docs/report.schema.json: `schema_version` 1 and
/// every module, group and metric under `modules` (other sections are not checked). Once it passes,
/// tidy_rows cannot throw. Throws data_error "NAME: not a judgebias report: POINTER: EXPECTED", with
/// POINTER the JSON pointer (RFC 6901) of the first offending value.
void validate_report(const nlohmann::ordered_json& j, std::string_view name);

/// The diff table: per judge and metric (tidy_rows), the old and new value with their intervals, the
/// change, and whether the intervals overlap (`apart` when they do not); `new` and `gone` for metrics
/// in one report only; then a one-paragraph summary. `breakdowns` adds the per-opponent, per-task and
/// per-run rows. Both reports are checked first (validate_report, names "old report", "new report").
std::string diff_reports(const report& before, const report& after, bool breakdowns = false);

}  // namespace judgebias
