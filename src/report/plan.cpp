// `judgebias plan`: the minimum detectable effect of a pilot's metric and the units a study needs to
// detect a given effect, from the pilot's own intervals (docs/metrics.md "Planning a study"). The normal
// approximation of a two-sided test: power = Φ(|effect| / se − z_{1−α/2}), ignoring the far tail.
#include "judgebias/plan.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "judgebias/error.hpp"
#include "judgebias/registry.hpp"
#include "judgebias/stats.hpp"

namespace judgebias {

namespace {

void check_options(const plan_options& o) {
  if (!(o.alpha > 0 && o.alpha < 1)) throw usage_error("--alpha must lie between 0 and 1");
  if (!(o.power > 0 && o.power < 1)) throw usage_error("--power must lie between 0 and 1");
  if (o.effect && !(*o.effect > 0 && std::isfinite(*o.effect)))
    throw usage_error("--effect must be a positive number (a distance from the value of no bias)");
}

// The units whose mde is the effect, from the variance one unit contributes (n·se² of a metric measured
// on n units, sd² of a stated spread): ⌈variance · ((z_{1−α/2} + z_{power}) / effect)²⌉.
std::uint64_t units_needed(double per_unit_variance, const plan_options& o) {
  const double r = stats::detectable_effect(1.0, o.alpha, o.power) / *o.effect;
  return static_cast<std::uint64_t>(std::ceil(per_unit_variance * r * r - 1e-9));
}

// mde and the units needed, from p.se and the units n it was measured on.
void finish(plan_row& p, std::uint64_t n, const plan_options& o) {
  p.mde = stats::detectable_effect(*p.se, o.alpha, o.power);
  if (o.effect) p.needed = units_needed(static_cast<double>(n) * *p.se * *p.se, o);
}

// se from the metric's interval at the pilot's confidence, then mde and needed; or why not.
void from_interval(plan_row& p, const metric& m, double confidence, const plan_options& o) {
  if (!m.value || !m.ci) {
    p.reason = m.value ? "no interval in the pilot" : "no value in the pilot";
  } else if (m.n < 2) {
    p.reason = "fewer than 2 units in the pilot";
  } else if (const double se = stats::interval_se(*m.ci, confidence); !(se > 0)) {
    p.reason = "the pilot's interval has no width";
  } else {
    p.se = se;
    finish(p, m.n, o);
  }
}

// The row of `judge`'s metric `name` in the section's own per-judge rows, or null.
const metric* judge_metric(const module_section& section, const std::string& name, const std::string& judge) {
  for (const auto& row : section.rows)
    if (row.metric == name && row.scope == row_scope::judge && row.section.empty() && !row.per_model &&
        !row.per_opponent && row.judge == judge)
      return &row.value;
  return nullptr;
}

// The difference A − B: from the pilot's paired --compare interval when it has one for these two judges,
// else from each judge's own interval as if the two were independent.
plan_row plan_difference(const report& pilot, const module_section& section, const std::string& name,
                         const plan_options& o, double confidence) {
  if (o.compare.size() != 2 || o.compare[0] == o.compare[1])
    throw usage_error("--compare takes two different judges, A,B");
  if (!o.judges.empty()) throw usage_error("--judges does not go with --compare, which names the two judges");
  const std::string &a = o.compare[0], &b = o.compare[1];
  plan_row p;
  p.judge = a + " - " + b;
  const auto& meta = pilot.meta;
  if (meta.contains("compare") && meta["compare"].contains("judges") && meta["compare"].contains("metrics")) {
    const auto& judges = meta["compare"]["judges"];
    const double sign = judges == nlohmann::ordered_json{a, b}   ? 1
                        : judges == nlohmann::ordered_json{b, a} ? -1
                                                                 : 0;
    for (const auto& m : meta["compare"]["metrics"]) {
      if (sign == 0 || m.value("module", "") != section.name || m.value("metric", "") != name) continue;
      bool breakdown = false;
      for (const char* key : {"kind", "model", "opponent", "task", "run"}) breakdown |= m.contains(key);
      if (breakdown) continue;
      metric d = metric_from_json(m);
      if (!d.value || !d.ci) break;  // a pilot without intervals: the two judges' own, below
      d.value = sign * *d.value;
      if (sign < 0) d.ci = std::array<double, 2>{-(*d.ci)[1], -(*d.ci)[0]};
      p.observed = d;
      p.basis = "paired";
      from_interval(p, d, confidence, o);
      return p;
    }
  }
  const metric* ma = judge_metric(section, name, a);
  const metric* mb = judge_metric(section, name, b);
  for (const auto& [judge, m] : {std::pair{a, ma}, std::pair{b, mb}})
    if (!m)
      throw usage_error(
          fmt::format("--compare: judge \"{}\" has no {}.{} in the report", judge, section.name, name));
  p.basis = "independent";
  p.observed.unit = ma->unit;
  p.observed.n = std::min(ma->n, mb->n);
  if (ma->value && mb->value) p.observed.value = *ma->value - *mb->value;
  plan_row pa, pb;
  from_interval(pa, *ma, confidence, o);
  from_interval(pb, *mb, confidence, o);
  if (!pa.se || !pb.se) {
    p.reason = fmt::format("{}: {}", pa.se ? b : a, pa.se ? pb.reason : pa.reason);
    return p;
  }
  // Each judge's per-unit variance is n se² (se shrinks as 1/√n): a study of N units per judge has
  // se² = (n_A se_A² + n_B se_B²) / N, so N = (z / effect)² (n_A se_A² + n_B se_B²).
  p.se = std::hypot(*pa.se, *pb.se);
  p.mde = stats::detectable_effect(*p.se, o.alpha, o.power);
  if (o.effect)
    p.needed = units_needed(
        static_cast<double>(ma->n) * *pa.se * *pa.se + static_cast<double>(mb->n) * *pb.se * *pb.se, o);
  return p;
}

}  // namespace

std::vector<plan_row> plan_study(const report& pilot, const plan_options& o) {
  check_options(o);
  const auto dot = o.metric.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == o.metric.size())
    throw usage_error(fmt::format("--metric \"{}\": expected MODULE.METRIC", o.metric));
  const std::string module = o.metric.substr(0, dot), name = o.metric.substr(dot + 1);
  const module_section* section = pilot.find(module);
  if (!section) throw usage_error(fmt::format("--metric: the report has no module \"{}\"", module));
  if (section->status != module_status::ok)
    throw usage_error(fmt::format("--metric: module \"{}\" is {} in the report: {}", module,
                                  to_string(section->status), section->reason));
  double null_value = o.null_value.value_or(0.0);
  if (!o.null_value && o.compare.empty())
    for (const auto& m : section->metrics)
      if (m.name == name && m.section.empty() && m.direction == bias_direction::away_from_half)
        null_value = 0.5;
  const double confidence = pilot.meta.contains("config") && pilot.meta["config"].contains("confidence")
                                ? pilot.meta["config"]["confidence"].get<double>()
                                : 0.95;
  if (!o.compare.empty()) {
    plan_row p = plan_difference(pilot, *section, name, o, confidence);
    p.null_value = o.null_value.value_or(0.0);  // no difference
    return {p};
  }
  std::vector<plan_row> out;
  for (const auto& row : section->rows) {
    if (row.metric != name || row.scope != row_scope::judge || !row.section.empty() || row.per_model ||
        row.per_opponent)
      continue;
    if (!o.judges.empty() && std::find(o.judges.begin(), o.judges.end(), row.judge) == o.judges.end())
      continue;
    plan_row p;
    p.judge = row.judge;
    p.observed = row.value;
    p.null_value = null_value;
    from_interval(p, row.value, confidence, o);
    out.push_back(std::move(p));
  }
  if (out.empty())
    throw usage_error(fmt::format("--metric: no judge in the report has {}{}", o.metric,
                                  o.judges.empty() ? "" : " (among --judges)"));
  return out;
}

plan_row plan_stated(const plan_options& o) {
  check_options(o);
  if (!o.sd || !(*o.sd > 0 && std::isfinite(*o.sd)))
    throw usage_error("--sd must be a positive number (the spread of one unit, in the metric's unit)");
  if (!o.units && !o.effect) throw usage_error("a stated plan needs --effect, --units or both");
  if (!o.judges.empty() || !o.compare.empty())
    throw usage_error("--judges and --compare read a pilot report; a stated plan has no judges");
  if (o.units && *o.units == 0) throw usage_error("--units must be at least 1");
  plan_row p;
  p.judge = "(stated)";
  p.basis = "stated";
  p.null_value = o.null_value.value_or(0.0);
  if (o.units) {
    p.observed.n = *o.units;
    p.se = *o.sd / std::sqrt(static_cast<double>(*o.units));
    finish(p, *o.units, o);
  } else {
    p.needed = units_needed(*o.sd * *o.sd, o);
  }
  return p;
}

std::string format_plan(const std::vector<plan_row>& rows, const plan_options& o, const report& pilot) {
  const auto& config =
      pilot.meta.contains("config") ? pilot.meta["config"] : nlohmann::ordered_json::object();
  const bool closed = config.contains("bootstrap") && config["bootstrap"].get<std::uint64_t>() == 0;
  std::string unit = rows.empty() ? "" : std::string(to_string(rows.front().observed.unit));
  const std::string basis = rows.empty() ? "" : rows.front().basis;
  const std::string source =
      basis == "stated" ? fmt::format("from a stated sd of {:g} per unit", o.sd.value_or(0))
      : closed ? "from the pilot's closed-form intervals (clustering by item not counted: run the pilot "
                 "with the bootstrap)"
               : "from the pilot's item-bootstrap intervals";
  std::string out =
      basis == "stated"
          ? fmt::format("plan: two-sided alpha {:g}, power {:g}; {}\n", o.alpha, o.power, source)
          : fmt::format("plan: {}{} ({}), no bias at {:g}; two-sided alpha {:g}, power {:g}; {}\n",
                        o.compare.empty() ? "" : "the difference in ", o.metric, unit,
                        rows.empty() ? 0.0 : rows.front().null_value, o.alpha, o.power, source);
  if (basis == "paired")
    out += "  (the pilot's paired interval from run --compare: units are the shared items)\n";
  else if (basis == "independent")
    out += fmt::format(
        "  (the two judges' own intervals as if independent, which ignores how the two move "
        "together on the same items: run the pilot with --compare {},{} for the paired one)\n",
        o.compare[0], o.compare[1]);
  std::size_t w = 5;
  for (const auto& r : rows) w = std::max(w, r.judge.size());
  out += fmt::format("  {:<{}}  {:>9}  {:>8}  {:>9}  {:>9}", "judge", w, "value", "n", "se", "mde");
  if (o.effect) out += fmt::format("  {:>22}", fmt::format("units for {:g}", *o.effect));
  out += "\n";
  for (const auto& r : rows) {
    auto num = [](const std::optional<double>& v) {
      return v ? fmt::format("{:.4g}", *v) : std::string("null");
    };
    out += fmt::format("  {:<{}}  {:>9}  {:>8}  {:>9}  {:>9}", r.judge, w,
                       r.basis == "stated" ? std::string("-") : num(r.observed.value), r.observed.n,
                       num(r.se), num(r.mde));
    if (o.effect)
      out += fmt::format(
          "  {:>22}", !r.needed ? std::string("null")
                      : r.observed.n == 0
                          ? fmt::format("{}", *r.needed)
                          : fmt::format("{} ({:.2g}x)", *r.needed,
                                        static_cast<double>(*r.needed) / static_cast<double>(r.observed.n)));
    if (!r.reason.empty()) out += "  (" + r.reason + ")";
    out += "\n";
  }
  return out;
}

}  // namespace judgebias
