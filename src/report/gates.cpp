// --fail-if gates: parsing `module[.kind].metric[.ci_low|.ci_high] OP number` and checking it per judge.
#include "judgebias/gates.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "judgebias/error.hpp"

namespace judgebias {

namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto at = s.find(sep, start);
    parts.push_back(s.substr(start, at - start));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return parts;
}

}  // namespace

gate parse_gate(const std::string& text, const module_registry& registry) {
  auto bad = [&](const std::string& why) {
    return usage_error(
        fmt::format("--fail-if '{}': {} (grammar: module[.kind].metric[.ci_low|.ci_high] "
                    "OP number, OP one of < <= > >=)",
                    text, why));
  };
  gate g;
  g.text = text;
  const auto at = text.find_first_of("<>");
  if (at == std::string::npos) throw bad("no comparison");
  std::size_t after = at + 1;
  const bool less = text[at] == '<';
  const bool equal = after < text.size() && text[after] == '=';
  if (equal) ++after;
  g.comparison = less ? (equal ? gate::op::less_equal : gate::op::less)
                      : (equal ? gate::op::greater_equal : gate::op::greater);
  const std::string lhs = trim(std::string_view(text).substr(0, at));
  const std::string rhs = trim(std::string_view(text).substr(after));
  if (rhs.empty() || rhs.find_first_of("<>=") != std::string::npos)
    throw bad("the right side must be one number");
  // Decimal only: strtod would also take hex (0x10), hex floats and "infinity".
  if (rhs.find_first_not_of("0123456789+-.eE") != std::string::npos)
    throw bad(fmt::format("\"{}\" is not a decimal number", rhs));
  char* end = nullptr;
  errno = 0;
  g.threshold = std::strtod(rhs.c_str(), &end);
  if (end != rhs.c_str() + rhs.size() || errno == ERANGE || !std::isfinite(g.threshold))
    throw bad(fmt::format("\"{}\" is not a finite number", rhs));
  auto parts = split(lhs, '.');
  if (parts.size() >= 3 && (parts.back() == "ci_low" || parts.back() == "ci_high")) {
    g.field = parts.back() == "ci_low" ? gate::field::ci_low : gate::field::ci_high;
    parts.pop_back();
  }
  if (parts.size() < 2 || parts.size() > 3) throw bad("the left side must be module[.kind].metric");
  for (const auto& p : parts)
    if (p.empty()) throw bad("an empty name");
  g.module = parts.front();
  g.metric = parts.back();
  if (parts.size() == 3) g.kind = parts[1];
  if (!registry.contains(g.module))
    throw bad(fmt::format("unknown module \"{}\" (known: {})", g.module, fmt::join(registry.names(), ", ")));
  // The kinds a module has are those its metrics are declared in: a named sub-section (verbosity's
  // counterfactual), any kind (every_section: the cue kinds), `overall` for metrics over all judges.
  const auto declared = registry.create(g.module)->metrics();
  auto kinds_of = [](const std::vector<metric_info>& metrics) {
    std::vector<std::string> kinds;
    auto add = [&](const std::string& k) {
      if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
    };
    for (const auto& m : metrics) {
      if (!m.section.empty()) add(m.section == every_section ? "<kind>" : m.section);
      if (m.overall) add("overall");
    }
    return kinds;
  };
  const bool own =
      std::any_of(declared.begin(), declared.end(), [](const metric_info& m) { return m.section.empty(); });
  if (g.kind.empty() && !own)
    throw bad(fmt::format("the {0} module needs a kind: {0}.<kind>.<metric>, e.g. {0}.distraction.{1}",
                          g.module, declared.empty() ? std::string("metric") : declared.front().name));
  std::vector<metric_info> metrics;
  for (const auto& m : declared) {
    const bool in = g.kind.empty()        ? m.section.empty()
                    : g.kind == "overall" ? m.overall || m.section == every_section
                                          : m.section == g.kind || m.section == every_section;
    if (in) metrics.push_back(m);
  }
  if (!g.kind.empty() && metrics.empty()) {
    // Every module's kinds: any kind first, then named sub-sections, then over all judges.
    std::vector<std::string> all;
    for (const char* which : {"<kind>", "", "overall"})
      for (const auto& name : registry.names())
        for (const auto& k : kinds_of(registry.create(name)->metrics()))
          if (which == k || (*which == '\0' && k != "<kind>" && k != "overall"))
            all.push_back(fmt::format("{}.{}", name, k));
    std::string list = all.empty() ? std::string("no module") : all.back();
    if (all.size() > 1)
      list = fmt::format("{} and {}", fmt::join(all.begin(), all.end() - 1, ", "), all.back());
    throw bad(fmt::format("\"{}\" has no kind \"{}\" (kinds exist for {})", g.module, g.kind, list));
  }
  bool known = false;
  std::vector<std::string> names;
  for (const auto& m : metrics) {
    known |= m.name == g.metric;
    names.push_back(m.name);
  }
  if (!known)
    throw bad(
        fmt::format("\"{}\" has no metric \"{}\" (it has: {})", g.module, g.metric, fmt::join(names, ", ")));
  return g;
}

std::vector<gate_result> check_gate(const report& r, const gate& g) {
  std::vector<gate_result> out;
  for (const auto& row : tidy_rows(r)) {
    // A judge's metric, or a per-model one (checked for every judge and model), never a breakdown.
    if (row.module != g.module || row.kind != g.kind || row.metric != g.metric || row.per_opponent ||
        !row.task.empty() || !row.run.empty())
      continue;
    gate_result res;
    res.judge = row.judge.empty() ? "(all judges)" : row.judge;
    res.model = row.model;
    res.value = g.field == gate::field::value    ? row.value
                : g.field == gate::field::ci_low ? row.ci_low
                                                 : row.ci_high;
    if (!res.value) res.reason = row.reason.empty() ? "no interval" : row.reason;
    if (res.value) {
      const double v = *res.value, t = g.threshold;
      switch (g.comparison) {
        case gate::op::less:
          res.tripped = v < t;
          break;
        case gate::op::less_equal:
          res.tripped = v <= t;
          break;
        case gate::op::greater:
          res.tripped = v > t;
          break;
        case gate::op::greater_equal:
          res.tripped = v >= t;
          break;
      }
    }
    out.push_back(std::move(res));
  }
  if (out.empty()) {
    gate_result none;
    const module_section* m = r.find(g.module);
    none.reason = m && m->status != module_status::ok
                      ? fmt::format("{} {}: {}", g.module, to_string(m->status), m->reason)
                      : "the report has no value for it";
    out.push_back(std::move(none));
  }
  return out;
}

}  // namespace judgebias
