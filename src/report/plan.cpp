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

std::vector<plan_row> plan_study(const report& pilot, const plan_options& o) {
  if (!(o.alpha > 0 && o.alpha < 1)) throw usage_error("--alpha must lie between 0 and 1");
  if (!(o.power > 0 && o.power < 1)) throw usage_error("--power must lie between 0 and 1");
  if (o.effect && !(*o.effect > 0 && std::isfinite(*o.effect)))
    throw usage_error("--effect must be a positive number (a distance from the value of no bias)");
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
  if (!o.null_value)
    for (const auto& m : section->metrics)
      if (m.name == name && m.section.empty() && m.direction == bias_direction::away_from_half)
        null_value = 0.5;
  const double confidence = pilot.meta.contains("config") && pilot.meta["config"].contains("confidence")
                                ? pilot.meta["config"]["confidence"].get<double>()
                                : 0.95;
  const double z_ci = stats::normal_quantile(0.5 + confidence / 2);
  const double z_sum = stats::normal_quantile(1 - o.alpha / 2) + stats::normal_quantile(o.power);
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
    const metric& m = row.value;
    if (!m.value || !m.ci) {
      p.reason = m.value ? "no interval in the pilot" : "no value in the pilot";
    } else if (m.n < 2) {
      p.reason = "fewer than 2 units in the pilot";
    } else {
      p.se = ((*m.ci)[1] - (*m.ci)[0]) / (2 * z_ci);
      if (!(*p.se > 0)) {
        p.se.reset();
        p.reason = "the pilot's interval has no width";
      } else {
        p.mde = z_sum * *p.se;
        if (o.effect)
          p.needed = static_cast<std::uint64_t>(
              std::ceil(static_cast<double>(m.n) * (*p.mde / *o.effect) * (*p.mde / *o.effect) - 1e-9));
      }
    }
    out.push_back(std::move(p));
  }
  if (out.empty())
    throw usage_error(fmt::format("--metric: no judge in the report has {}{}", o.metric,
                                  o.judges.empty() ? "" : " (among --judges)"));
  return out;
}

std::string format_plan(const std::vector<plan_row>& rows, const plan_options& o, const report& pilot) {
  const auto& config =
      pilot.meta.contains("config") ? pilot.meta["config"] : nlohmann::ordered_json::object();
  const bool closed = config.contains("bootstrap") && config["bootstrap"].get<std::uint64_t>() == 0;
  std::string unit = rows.empty() ? "" : std::string(to_string(rows.front().observed.unit));
  std::string out = fmt::format(
      "plan: {} ({}), no bias at {:g}; two-sided alpha {:g}, power {:g}; from the pilot's {} intervals\n",
      o.metric, unit, rows.empty() ? 0.0 : rows.front().null_value, o.alpha, o.power,
      closed ? "closed-form (clustering by item not counted: run the pilot with the bootstrap)"
             : "item-bootstrap");
  std::size_t w = 5;
  for (const auto& r : rows) w = std::max(w, r.judge.size());
  out += fmt::format("  {:<{}}  {:>9}  {:>8}  {:>9}  {:>9}", "judge", w, "value", "n", "se", "mde");
  if (o.effect) out += fmt::format("  {:>22}", fmt::format("units for {:g}", *o.effect));
  out += "\n";
  for (const auto& r : rows) {
    auto num = [](const std::optional<double>& v) {
      return v ? fmt::format("{:.4g}", *v) : std::string("null");
    };
    out += fmt::format("  {:<{}}  {:>9}  {:>8}  {:>9}  {:>9}", r.judge, w, num(r.observed.value),
                       r.observed.n, num(r.se), num(r.mde));
    if (o.effect)
      out += fmt::format("  {:>22}", r.needed ? fmt::format("{} ({:.2g}x)", *r.needed,
                                                            static_cast<double>(*r.needed) /
                                                                static_cast<double>(r.observed.n))
                                              : std::string("null"));
    if (!r.reason.empty()) out += "  (" + r.reason + ")";
    out += "\n";
  }
  return out;
}

}  // namespace judgebias
