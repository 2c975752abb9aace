#include "judgebias/module.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <new>

#include <fmt/format.h>

#include "judgebias/error.hpp"
#include "judgebias/stats.hpp"

namespace judgebias {

std::string_view to_string(unit u) noexcept {
  switch (u) {
    case unit::fraction:
      return "fraction";
    case unit::pp:
      return "pp";
    case unit::score:
      return "score";
    case unit::coefficient:
      return "coefficient";
    case unit::count:
      return "count";
  }
  return "fraction";
}

std::string_view to_string(length_unit u) noexcept {
  return u == length_unit::tokens ? "tokens" : "chars";
}

length_unit parse_length_unit(std::string_view text) {
  if (text == "chars") return length_unit::chars;
  if (text == "tokens") return length_unit::tokens;
  throw usage_error(fmt::format("--length takes chars or tokens, got \"{}\"", text));
}

std::string_view to_string(pair_rule r) noexcept {
  return r == pair_rule::conservative ? "conservative" : r == pair_rule::counter ? "counter" : "each";
}

pair_rule parse_pair_rule(std::string_view text) {
  if (text == "each") return pair_rule::each;
  if (text == "conservative") return pair_rule::conservative;
  if (text == "counter") return pair_rule::counter;
  throw usage_error(fmt::format("--pair-rule takes each, conservative or counter, got \"{}\"", text));
}

nlohmann::ordered_json to_json(const metric& m) {
  nlohmann::ordered_json j;
  const bool has_value = m.value && std::isfinite(*m.value);
  // A count is written as the whole number it is (12, not 12.0).
  const bool whole =
      has_value && m.unit == unit::count && std::floor(*m.value) == *m.value && std::fabs(*m.value) < 9.0e15;
  j["value"] = !has_value ? nlohmann::ordered_json(nullptr)
               : whole    ? nlohmann::ordered_json(static_cast<std::int64_t>(*m.value))
                          : nlohmann::ordered_json(*m.value);
  if (has_value && m.ci && std::isfinite((*m.ci)[0]) && std::isfinite((*m.ci)[1]))
    j["ci"] = {(*m.ci)[0], (*m.ci)[1]};
  else
    j["ci"] = nullptr;
  j["n"] = m.n;
  if (has_value && m.p && std::isfinite(*m.p)) j["p"] = *m.p;
  if (has_value && m.mde && std::isfinite(*m.mde)) j["mde"] = *m.mde;
  j["unit"] = std::string(to_string(m.unit));
  if (!m.reason.empty())
    j["reason"] = m.reason;
  else if (!has_value)
    j["reason"] = "not computable";
  return j;
}

metric normal_form(metric m) {
  const bool has_value = m.value && std::isfinite(*m.value);
  if (!has_value) m.value.reset();
  if (!has_value || (m.ci && !(std::isfinite((*m.ci)[0]) && std::isfinite((*m.ci)[1])))) m.ci.reset();
  if (!has_value || (m.p && !std::isfinite(*m.p))) m.p.reset();
  if (!has_value || (m.mde && !std::isfinite(*m.mde))) m.mde.reset();
  if (m.reason.empty() && !has_value) m.reason = "not computable";
  return m;
}

std::string_view report_row::kind() const noexcept {
  if (scope == row_scope::overall) return "overall";
  return section.empty() ? std::string_view() : std::string_view(section.back());
}

std::string_view to_string(module_status s) noexcept {
  switch (s) {
    case module_status::ok:
      return "ok";
    case module_status::skipped:
      return "skipped";
    case module_status::error:
      return "error";
  }
  return "error";
}

std::vector<const metric_info*> module_section::declared(std::string_view kind, bool over_all_judges) const {
  std::vector<const metric_info*> out;
  for (const auto& m : metrics) {
    const bool in = over_all_judges ? m.overall
                    : kind.empty()  ? m.section.empty()
                                    : m.section == kind || m.section == every_section;
    if (in) out.push_back(&m);
  }
  return out;
}

void section_body::extra(std::vector<std::string> path, nlohmann::ordered_json value) {
  extras.push_back(section_extra{std::move(path), std::move(value), rows.size()});
}

void section_body::nest(const std::vector<std::string>& path, section_body sub) {
  if (sub.rows.empty() && sub.extras.empty()) {
    extra(path, nlohmann::ordered_json::object());
    return;
  }
  const std::size_t before = rows.size();
  for (auto& e : sub.extras) {
    e.path.insert(e.path.begin(), path.begin(), path.end());
    e.after_rows += before;
    extras.push_back(std::move(e));
  }
  rows.reserve(rows.size() + sub.rows.size());
  for (auto& r : sub.rows) {
    r.section.insert(r.section.begin(), path.begin(), path.end());
    rows.push_back(std::move(r));
  }
}

namespace {

// The minimum detectable effect beside each headline metric that has an interval (docs/metrics.md
// "Planning a study"): from the interval's standard error, at level 1 - confidence and power 0.8. Not for
// an interval of zero width, whose resamples never varied, nor for a count (a rank). Every other row
// loses any mde it carried in (a number another module's evaluation made).
void add_minimum_detectable_effects(module_section& s, double confidence) {
  for (auto& row : s.rows) row.value.mde.reset();
  std::vector<std::pair<std::string_view, std::string_view>> headline;  // (section, metric)
  for (const auto& m : s.metrics)
    if (m.headline > 0) headline.emplace_back(m.section, m.name);
  if (headline.empty()) return;
  for (auto& row : s.rows) {
    if (!row.value.ci || !row.value.value || row.value.unit == unit::count) continue;
    const std::string_view section = row.section.empty() ? std::string_view() : row.section.back();
    const bool shown = std::any_of(headline.begin(), headline.end(), [&](const auto& h) {
      return h.second == row.metric && (h.first == section || h.first == every_section);
    });
    const double se = stats::interval_se(*row.value.ci, confidence);
    if (shown && se > 0 && std::isfinite(se))
      row.value.mde = stats::detectable_effect(se, 1 - confidence, 0.8);
  }
}

}  // namespace

module_section bias_module::evaluate(const dataset& data, const config& cfg) const {
  module_section out;
  out.name = std::string(name());
  out.metrics = metrics();
  try {
    module_result r = do_evaluate(data, cfg);
    if (r.skipped) {
      out.status = module_status::skipped;
      out.reason = std::move(r.reason);
      return out;
    }
    out.rows = std::move(r.body.rows);
    out.extras = std::move(r.body.extras);
    add_minimum_detectable_effects(out, cfg.confidence);
  } catch (const std::bad_alloc&) {
    throw;  // out of memory is the run's failure (exit status 1), not one module's
  } catch (const cancelled&) {
    throw;  // a stop request ends the run
  } catch (const std::exception& e) {
    out.rows.clear();
    out.extras.clear();
    out.status = module_status::error;
    out.reason = e.what();
  }
  return out;
}

}  // namespace judgebias
