#pragma once
/// \file The report's forms besides JSON: CSV, Markdown, a self-contained HTML page, and the terminal
/// table. Every writer reads the typed report (report.hpp), never the dataset, so a report saved as JSON
/// can be turned into any of them later (report_from_json).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "judgebias/report.hpp"

namespace judgebias {

/// Output formats of `-o`, chosen by the path's extension.
enum class output_format : std::uint8_t { json, markdown, csv, html };
/// The format of a path's extension (.json, .md, .csv, .html/.htm); throws usage_error otherwise.
output_format format_of_path(const std::string& path);
/// The report in that format.
std::string render(const report& r, output_format f);

/// Tidy CSV (RFC 4180): module, kind, judge, opponent, task, run, metric, value, ci_low, ci_high, n, p,
/// unit, reason; numbers in shortest round-trip form. Text cells go through printable(), and one that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a `'` first (no formula runs).
std::string to_csv(const report& r);
/// Markdown: one table per module (and cue kind, and breakdown), judges as rows, value [CI] and n.
std::string to_markdown(const report& r);
/// One self-contained HTML page (no scripts, no external resources) with SVG charts and every value
/// in tables. All text from the input is escaped.
std::string to_html(const report& r);

/// How the terminal table looks.
struct table_style {
  bool color = false;  ///< ANSI colours (only when writing to a terminal).
};
/// The stdout table: aligned columns, one block per module (and cue kind), value [CI] n=.
std::string format_table(const report& r, const table_style& style = {});

/// Text from the input as a terminal may show it: what would act instead of showing (an escape
/// sequence in a judge's name would drive the terminal, a bidi override reorder the line) becomes
/// visible text. ASCII controls, DEL and bytes that are not valid UTF-8 become `\xNN`; C1 controls
/// (U+0080–U+009F), bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and U+2028,
/// U+2029 become `\u{NNNN}` (lowercase hex); everything else is kept. The result is valid UTF-8.
/// Text of printable ASCII alone is returned as is, without a second pass.
std::string printable(std::string_view s);

/// Escapes text for HTML element content and attribute values, after printable().
std::string html_escape(std::string_view s);

}  // namespace judgebias
