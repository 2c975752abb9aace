#pragma once
/// \file The report (REPORT.md): a JSON value tree, its atomic file writer and the summary table.

#include <string>

#include <nlohmann/json.hpp>

#include "judgebias/output.hpp"

namespace judgebias {

/// The whole report as an ordered JSON value (REPORT.md, schema_version 1).
struct report {
  nlohmann::ordered_json json;
  /// The report as text: two-space indented, numbers in shortest round-trip form, final newline.
  std::string dump() const;
};

/// Writes the report atomically: a temporary file in the same folder, flushed, renamed into place.
/// Throws io_error; on failure nothing is left at `path`, and a previous file there survives.
void write_json_file(const report& r, const std::string& path);

/// The terminal table without colour (the same as format_table(r) of writers.hpp).
std::string format_summary(const report& r);

}  // namespace judgebias
