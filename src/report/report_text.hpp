#pragma once
// How the human forms of the report write numbers and headers (terminal, Markdown, HTML).

#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "judgebias/writers.hpp"

namespace judgebias::detail {

// A number in its unit: signed with one decimal for percentage points, two for scores, else three.
inline std::string number_text(double v, const std::string& unit) {
  if (unit == "pp") return fmt::format("{:+.1f}", v);
  if (unit == "score") return fmt::format("{:+.2f}", v);
  if (unit == "count") return fmt::format("{:.0f}", v);
  return fmt::format("{:.3f}", v);
}

// A distance from the value of no bias (an mde) in its unit: as number_text, unsigned.
inline std::string distance_text(double v, const std::string& unit) {
  if (unit == "pp") return fmt::format("{:.1f}", v);
  if (unit == "score") return fmt::format("{:.2f}", v);
  return number_text(v, unit);
}

// "value [low, high] n=N", "value n=N" without an interval, "null" without a value.
inline std::string cell_text(const metric_row& m) {
  if (!m.value) return "null";
  std::string s = number_text(*m.value, m.unit);
  if (m.ci_low && m.ci_high)
    s += fmt::format(" [{}, {}]", number_text(*m.ci_low, m.unit), number_text(*m.ci_high, m.unit));
  return s + fmt::format(" n={}", m.n);
}

// cell_text, then " mde=X" for a headline metric that has one (the Markdown table; the HTML page has a
// column of its own, and the terminal table leaves it out to stay narrow).
inline std::string cell_text_with_mde(const metric_row& m) {
  std::string s = cell_text(m);
  if (m.value && m.mde) s += " mde=" + distance_text(*m.mde, m.unit);
  return s;
}

// "N records from a.jsonl, b.jsonl (B bytes)", names passed through `escape`.
template <class Escape>
std::string inputs_line(const report& r, Escape&& escape) {
  std::uint64_t bytes = 0;
  std::vector<std::string> names;
  for (const auto& in : r.meta["inputs"]) {
    bytes += in.value("bytes", std::uint64_t{0});
    names.push_back(escape(in.value("path", "")));
  }
  return fmt::format("{} records from {} ({} bytes), judgebias {}.",
                     r.meta["diagnostics"].value("records", std::uint64_t{0}), fmt::join(names, ", "), bytes,
                     r.meta["tool"].value("version", ""));
}

// How the intervals were made.
inline std::string interval_method(const report& r) {
  const auto& c = r.meta["config"];
  const auto b = c.value("bootstrap", 0u);
  if (b == 0) return "closed-form intervals";
  return fmt::format("item bootstrap, {} resamples, seed {}", b, c.value("seed", std::uint64_t{0}));
}

// The --compare section as rows (a header row first): metric, A, B, difference, interval.
std::vector<std::vector<std::string>> compare_table(const report& r, bool breakdowns);

}  // namespace judgebias::detail
