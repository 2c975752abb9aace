// --fail-if gates: parsing `module[.kind].metric[.ci_low|.ci_high] OP number` and checking it per judge.
#include "judgebias/gates.hpp"

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
  // Which kinds a module has: any cue kind for `cue` (and it needs one), `counterfactual` for verbosity's
  // padded variants (measured like cues), `overall` for agreement over all judges; none elsewhere.
  auto metrics = registry.create(g.module)->metrics();
  if (g.module == "cue" && g.kind.empty())
    throw bad("the cue module needs a kind: cue.<kind>.<metric>, e.g. cue.distraction.robustness_rate");
  if (!g.kind.empty()) {
    if (g.module == "verbosity" && g.kind == "counterfactual" && registry.contains("cue")) {
      metrics = registry.create("cue")->metrics();
    } else if (g.module == "agreement" && g.kind == "overall") {
      // agreement's own metrics
    } else if (g.module != "cue") {
      throw bad(
          fmt::format("\"{}\" has no kind \"{}\" (kinds exist for cue.<kind>, verbosity.counterfactual "
                      "and agreement.overall)",
                      g.module, g.kind));
    }
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
    if (row.module != g.module || row.kind != g.kind || row.metric != g.metric || !row.opponent.empty() ||
        !row.task.empty() || !row.run.empty())
      continue;
    gate_result res;
    res.judge = row.judge.empty() ? "(all judges)" : row.judge;
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
