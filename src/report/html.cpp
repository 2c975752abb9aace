// The HTML report: one self-contained page (inline CSS and SVG, no scripts, no external resources)
// with charts drawn here and every value of the report in tables.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "judgebias/registry.hpp"
#include "judgebias/writers.hpp"
#include "report/report_text.hpp"

namespace judgebias {

using json = nlohmann::ordered_json;

std::string html_escape(std::string_view s) {
  // Bidi overrides act even as numeric character references: printable() makes them visible text.
  const std::string text = printable(s);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

struct chart_point {
  std::optional<double> value, low, high;
  std::uint64_t n = 0;
};
struct chart_series {
  std::string name;
  std::vector<chart_point> points;  // one per label
};
struct chart {
  std::string id, caption, unit, note;
  std::optional<double> reference;  // the no-bias value, drawn as a dashed line
  std::vector<std::string> labels;  // judges
  std::vector<chart_series> series;
};

// The first `max` code points of s, with an ellipsis when cut.
std::string shorten(const std::string& s, std::size_t max) {
  std::size_t points = 0, k = 0;
  for (; k < s.size(); ++k)
    if ((static_cast<unsigned char>(s[k]) & 0xC0u) != 0x80u && ++points > max) break;
  return k < s.size() ? s.substr(0, k) + "\u2026" : s;
}

double nice_step(double span) {
  const double raw = span / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

// A dot plot with interval whiskers: one row per label, one dot per series. Each dot is a
// <circle class="mark">, so that tests can count them.
std::string render_chart(const chart& c) {
  constexpr double width = 500, left = 140, right = 18, top = 8, dot_gap = 18, axis = 30;
  // Legend entries in rows that fit the width.
  std::vector<std::pair<double, double>> key_at;  // (x, y) of each series' key
  {
    double lx = left, ly = top + 8;
    for (const auto& s : c.series) {
      const double w = 30 + 8.2 * static_cast<double>(s.name.size());
      if (lx + w > width - right && lx > left) lx = left, ly += 18;
      key_at.emplace_back(lx, ly);
      lx += w;
    }
  }
  const double legend = c.series.size() > 1 ? key_at.back().second - top + 14 : 0;
  const double row = dot_gap * static_cast<double>(std::max<std::size_t>(1, c.series.size())) + 10;
  const double height = top + legend + row * static_cast<double>(c.labels.size()) + axis;
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  std::size_t marks = 0;
  for (const auto& s : c.series)
    for (const auto& p : s.points) {
      if (!p.value) continue;
      ++marks;
      lo = std::min({lo, *p.value, p.low.value_or(*p.value)});
      hi = std::max({hi, *p.value, p.high.value_or(*p.value)});
    }
  std::string out =
      fmt::format("<figure class=\"chart\" id=\"chart-{}\" data-marks=\"{}\">\n<figcaption>{}</figcaption>\n",
                  c.id, marks, html_escape(c.caption));
  if (marks == 0) return out + "<p class=\"empty\">No judge has a value for this chart.</p>\n</figure>\n";
  if (c.reference) lo = std::min(lo, *c.reference), hi = std::max(hi, *c.reference);
  if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
  const double step = nice_step(hi - lo);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  auto x = [&](double v) { return left + (v - lo) / (hi - lo) * (width - left - right); };
  out += fmt::format(
      "<svg viewBox=\"0 0 {} {:.0f}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">\n",
      width, height, html_escape(c.caption));
  const double plot_top = top + legend, plot_bottom = height - axis;
  // Grid and axis.
  for (double t = lo; t <= hi + step / 2; t += step) {
    const double v = std::abs(t) < step / 1e6 ? 0.0 : t;
    out += fmt::format(
        "<line class=\"grid\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>"
        "<text class=\"tick\" x=\"{0:.1f}\" y=\"{3:.1f}\">{4}</text>\n",
        x(v), plot_top, plot_bottom, plot_bottom + 16, html_escape(fmt::format("{:g}", v)));
  }
  if (c.reference)
    out += fmt::format(
        "<line class=\"reference\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>\n",
        x(*c.reference), plot_top, plot_bottom);
  if (legend > 0)
    for (std::size_t s = 0; s < c.series.size(); ++s)
      out += fmt::format(
          "<circle class=\"key s{0}\" cx=\"{1:.1f}\" cy=\"{2:.1f}\" r=\"4.5\"/>"
          "<text class=\"legend\" x=\"{3:.1f}\" y=\"{4:.1f}\">{5}</text>\n",
          s % 6, key_at[s].first + 5, key_at[s].second, key_at[s].first + 14, key_at[s].second + 4,
          html_escape(c.series[s].name));
  for (std::size_t i = 0; i < c.labels.size(); ++i) {
    const double y0 = plot_top + row * static_cast<double>(i);
    out +=
        fmt::format("<text class=\"label\" x=\"{:.1f}\" y=\"{:.1f}\"><title>{}</title>{}</text>\n", left - 8,
                    y0 + row / 2 + 4, html_escape(c.labels[i]), html_escape(shorten(c.labels[i], 18)));
    for (std::size_t s = 0; s < c.series.size(); ++s) {
      const chart_point& p = c.series[s].points[i];
      const double y = y0 + 5 + dot_gap * static_cast<double>(s) + dot_gap / 2;
      if (!p.value) {
        out += fmt::format("<text class=\"na\" x=\"{:.1f}\" y=\"{:.1f}\">n/a</text>\n", left + 4, y + 4);
        continue;
      }
      if (p.low && p.high)
        out += fmt::format("<line class=\"ci s{}\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>",
                           s % 6, x(*p.low), x(*p.high), y, y);
      metric_row m;
      m.value = p.value, m.ci_low = p.low, m.ci_high = p.high, m.n = p.n, m.unit = c.unit;
      const std::string who = c.series.size() > 1 ? c.labels[i] + ", " + c.series[s].name : c.labels[i];
      out += fmt::format(
          "<circle class=\"mark s{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4.5\"><title>{}: {}</title></circle>\n",
          s % 6, x(*p.value), y, html_escape(who), html_escape(detail::cell_text(m)));
    }
  }
  out += "</svg>\n";
  if (!c.note.empty()) out += "<p class=\"note\">" + html_escape(c.note) + "</p>\n";
  return out + "</figure>\n";
}

// A chart of judge-level metrics (or, for a per-model metric, judge-and-model ones): each series is
// (module, kind, metric).
struct series_spec {
  std::string name, module, kind, metric;
};
// A heat map of one per-opponent metric (chart_spec::matrix): a row per judge, a column per opponent,
// each cell coloured by its value on a diverging scale from −1 (red) through 0 (white) to 1 (blue), its
// value written in it and its interval in its title; none on the diagonal.
std::string render_matrix(const std::vector<metric_row>& rows, const std::string& id,
                          const std::string& caption, const std::string& unit, const std::string& note,
                          const series_spec& s) {
  std::vector<std::string> names;
  std::map<std::pair<std::string, std::string>, const metric_row*> cell;
  for (const auto& r : rows) {
    if (r.module != s.module || r.kind != s.kind || r.metric != s.metric || !r.per_opponent ||
        !r.task.empty() || !r.run.empty())
      continue;
    cell[{r.judge, r.opponent}] = &r;
    for (const std::string* n : {&r.judge, &r.opponent})
      if (std::find(names.begin(), names.end(), *n) == names.end()) names.push_back(*n);
  }
  std::sort(names.begin(), names.end());
  std::size_t marks = 0;
  for (const auto& entry : cell) marks += entry.second->value.has_value() ? 1 : 0;
  std::string out = fmt::format(
      "<figure class=\"chart matrix\" id=\"chart-{}\" data-marks=\"{}\">\n<figcaption>{}</figcaption>\n", id,
      marks, html_escape(caption));
  if (marks == 0)
    return out + "<p class=\"empty\">No two judges have a value for this chart.</p>\n</figure>\n";
  constexpr double left = 150, top = 96, cell_w = 44, cell_h = 24;
  const double side = static_cast<double>(names.size());
  const double width = left + cell_w * side + 60, height = top + cell_h * side + 8;
  out += fmt::format(
      "<svg viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" aria-label=\"{}\" "
      "xmlns=\"http://www.w3.org/2000/svg\">\n",
      width, height, html_escape(caption));
  for (std::size_t c = 0; c < names.size(); ++c) {
    const double x = left + cell_w * (static_cast<double>(c) + 0.5);
    out += fmt::format(
        "<text class=\"col\" transform=\"translate({:.1f} {:.1f}) rotate(-45)\"><title>{}</title>{}</text>\n",
        x, top - 6, html_escape(names[c]), html_escape(shorten(names[c], 14)));
  }
  for (std::size_t r = 0; r < names.size(); ++r) {
    const double y = top + cell_h * static_cast<double>(r);
    out +=
        fmt::format("<text class=\"label\" x=\"{:.1f}\" y=\"{:.1f}\"><title>{}</title>{}</text>\n", left - 8,
                    y + cell_h / 2 + 4, html_escape(names[r]), html_escape(shorten(names[r], 18)));
    for (std::size_t c = 0; c < names.size(); ++c) {
      const double x = left + cell_w * static_cast<double>(c);
      const auto it = cell.find({names[r], names[c]});
      if (r == c || it == cell.end()) continue;
      const metric_row& m = *it->second;
      std::string fill = "#f4f6f9", text;
      if (m.value) {
        const double v = std::clamp(*m.value, -1.0, 1.0);
        // White at 0, towards #1f77b4 at 1 and #c62b33 at −1.
        const auto mix = [&](int to) {
          return static_cast<int>(std::lround(255 + (to - 255) * std::fabs(v)));
        };
        fill = v >= 0 ? fmt::format("#{:02x}{:02x}{:02x}", mix(0x1f), mix(0x77), mix(0xb4))
                      : fmt::format("#{:02x}{:02x}{:02x}", mix(0xc6), mix(0x2b), mix(0x33));
        text = fmt::format("<text class=\"value{}\" x=\"{:.1f}\" y=\"{:.1f}\">{:.2f}</text>",
                           std::fabs(v) > 0.6 ? " light" : "", x + (cell_w - 2) / 2, y + cell_h / 2 + 3,
                           *m.value);
      }
      metric_row shown = m;
      shown.unit = unit;
      out += fmt::format(
          "<rect class=\"cell\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
          "<title>{} vs {}: {}</title></rect>{}\n",
          x, y, cell_w - 2, cell_h - 2, fill, html_escape(names[r]), html_escape(names[c]),
          html_escape(m.value ? detail::cell_text(shown) : "null: " + m.reason), text);
    }
  }
  out += "</svg>\n";
  if (!note.empty()) out += "<p class=\"note\">" + html_escape(note) + "</p>\n";
  return out + "</figure>\n";
}

chart make_chart(const std::vector<metric_row>& rows, std::string id, std::string caption, std::string unit,
                 std::optional<double> reference, std::string note, const std::vector<series_spec>& specs) {
  chart c{std::move(id), std::move(caption), std::move(unit), std::move(note), reference, {}, {}};
  auto selected = [](const metric_row& r, const series_spec& s) {
    return r.module == s.module && r.kind == s.kind && r.metric == s.metric && !r.judge.empty() &&
           !r.per_opponent && r.task.empty() && r.run.empty();
  };
  // A per-model metric's label leads with the model (what a label cut to fit keeps), and names the
  // judge when there are several.
  std::vector<std::string> judges;
  for (const auto& s : specs)
    for (const auto& r : rows)
      if (selected(r, s) && std::find(judges.begin(), judges.end(), r.judge) == judges.end())
        judges.push_back(r.judge);
  auto label = [&](const metric_row& r) {
    if (!r.per_model) return r.judge;
    return judges.size() > 1 ? r.model + " (" + r.judge + ")" : r.model;
  };
  for (const auto& s : specs)
    for (const auto& r : rows)
      if (selected(r, s) && std::find(c.labels.begin(), c.labels.end(), label(r)) == c.labels.end())
        c.labels.push_back(label(r));
  std::sort(c.labels.begin(), c.labels.end());
  for (const auto& s : specs) {
    chart_series cs{s.name, std::vector<chart_point>(c.labels.size())};
    bool any = false;
    for (const auto& r : rows)
      if (selected(r, s)) {
        const auto at = std::find(c.labels.begin(), c.labels.end(), label(r)) - c.labels.begin();
        cs.points[static_cast<std::size_t>(at)] = chart_point{r.value, r.ci_low, r.ci_high, r.n};
        any = true;
      }
    if (any) c.series.push_back(std::move(cs));
  }
  return c;
}

std::string long_table(const std::vector<const metric_row*>& rows) {
  const bool model = std::any_of(rows.begin(), rows.end(), [](auto* r) { return r->per_model; });
  const bool opponent = std::any_of(rows.begin(), rows.end(), [](auto* r) { return r->per_opponent; });
  const bool task = std::any_of(rows.begin(), rows.end(), [](auto* r) { return !r->task.empty(); });
  const bool run = std::any_of(rows.begin(), rows.end(), [](auto* r) { return !r->run.empty(); });
  std::string out = "<div class=\"scroll\"><table>\n<thead><tr><th scope=\"col\">judge</th>";
  if (model) out += "<th scope=\"col\">model</th>";
  if (opponent) out += "<th scope=\"col\">opponent</th>";
  if (task) out += "<th scope=\"col\">task</th>";
  if (run) out += "<th scope=\"col\">run</th>";
  out +=
      "<th scope=\"col\">metric</th><th scope=\"col\">value</th><th scope=\"col\">interval</th>"
      "<th scope=\"col\">n</th><th scope=\"col\">p</th>"
      "<th scope=\"col\" title=\"minimum detectable effect, 80 % power\">mde</th>"
      "<th scope=\"col\">note</th></tr></thead>\n<tbody>\n";
  for (const auto* r : rows) {
    out += "<tr><td>" + html_escape(r->judge.empty() ? "(all judges)" : r->judge) + "</td>";
    if (model) out += "<td>" + html_escape(r->model) + "</td>";
    if (opponent) out += "<td>" + html_escape(r->opponent) + "</td>";
    if (task) out += "<td>" + html_escape(r->task) + "</td>";
    if (run) out += "<td>" + html_escape(r->run) + "</td>";
    out += fmt::format(
        "<td>{} <span class=\"unit\">({})</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
        html_escape(r->metric), html_escape(r->unit),
        r->value ? detail::number_text(*r->value, r->unit) : "null",
        r->ci_low && r->ci_high ? fmt::format("[{}, {}]", detail::number_text(*r->ci_low, r->unit),
                                              detail::number_text(*r->ci_high, r->unit))
                                : "",
        r->n, r->p ? fmt::format("{:.3g}", *r->p) : "",
        r->value && r->mde ? detail::distance_text(*r->mde, r->unit) : "", html_escape(r->reason));
  }
  return out + "</tbody></table></div>\n";
}

// A JSON object of counts (diagnostics) as a two-column table; nested objects flattened with dots.
void flatten(const json& v, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (v.is_object()) {
    for (const auto& [k, x] : v.items())
      flatten(x, prefix.empty() ? k : fmt::format("{}.{}", prefix, k), out);
  } else if (v.is_array()) {
    if (v.empty()) return;
    std::vector<std::string> parts;
    for (const auto& x : v) parts.push_back(x.is_string() ? x.get<std::string>() : x.dump());
    out.emplace_back(prefix, fmt::format("{}", fmt::join(parts, "; ")));
  } else {
    out.emplace_back(prefix, v.is_string() ? v.get<std::string>() : v.dump());
  }
}

std::string key_value_table(const json& v) {
  std::vector<std::pair<std::string, std::string>> pairs;
  flatten(v, "", pairs);
  if (pairs.empty()) return "";
  std::string out = "<div class=\"scroll\"><table class=\"kv\">\n<tbody>\n";
  for (const auto& [k, x] : pairs)
    out += "<tr><th scope=\"row\">" + html_escape(k) + "</th><td>" + html_escape(x) + "</td></tr>\n";
  return out + "</tbody></table></div>\n";
}

constexpr std::string_view style = R"(
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --rule: #d9dde5; --band: #f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.6em; margin: 0.4em 0; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.05em; margin-top: 1.2em; }
.meta, .note, .empty { color: var(--muted); }
nav { display: flex; flex-wrap: wrap; gap: 0.2em 0.9em; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 440px), 1fr)); gap: 12px 24px; }
figure { margin: 0; } figcaption { font-weight: 600; margin: 0.6em 0 0.2em; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 13px system-ui, sans-serif; fill: var(--ink); }
svg .tick { text-anchor: middle; fill: var(--muted); } svg .label { text-anchor: end; } svg .na { fill: var(--muted); font-style: italic; }
svg .grid { stroke: var(--rule); } svg .reference { stroke: #7a8293; stroke-dasharray: 4 3; }
svg .ci { stroke-width: 2; }
svg .col { text-anchor: start; fill: var(--muted); } svg .value { text-anchor: middle; font-size: 11px; } svg .value.light { fill: #fff; }
.s0 { fill: #1f77b4; stroke: #1f77b4; } .s1 { fill: #e8710a; stroke: #e8710a; } .s2 { fill: #2a9d48; stroke: #2a9d48; }
.s3 { fill: #c62b33; stroke: #c62b33; } .s4 { fill: #7d52b5; stroke: #7d52b5; } .s5 { fill: #8c564b; stroke: #8c564b; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.92em; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
thead th { background: var(--band); } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.unit { color: var(--muted); } .status { color: var(--muted); font-style: italic; }
)";

}  // namespace

std::string to_html(const report& r) {
  const json& j = r.meta;
  const auto rows = tidy_rows(r);
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\">\n"
      "<title>judgebias report</title>\n<style>";
  out += style;
  out += "</style>\n</head>\n<body>\n<main>\n<h1>judgebias report</h1>\n";
  out += "<p class=\"meta\">" + detail::inputs_line(r, html_escape) + "</p>\n";
  out += fmt::format("<p class=\"meta\">Intervals: {:g} % ({}). Dashed lines mark no bias.</p>\n",
                     100 * j["config"].value("confidence", 0.95), html_escape(detail::interval_method(r)));
  out += "<nav><a href=\"#charts\">Charts</a>";
  for (const auto& section : r.modules)
    out += fmt::format("<a href=\"#module-{0}\">{0}</a>", html_escape(section.name));
  out += "<a href=\"#diagnostics\">Diagnostics</a></nav>\n";

  // Charts: what the modules declare, one series per declaring metric (or per sub-section found, for a
  // metric declared in every sub-section), charts and series in their declared order.
  struct planned {
    const chart_spec* spec;
    unit u;
    std::vector<std::pair<int, series_spec>> series;
  };
  // Each default built-in module's charts are drawn even when it was not run (empty, saying so), as are
  // those of the report's other modules (an opt-in module's when it ran).
  std::vector<std::pair<std::string, std::vector<metric_info>>> declarations;
  module_registry builtin;
  register_builtin_modules(builtin);
  for (const auto& name : builtin.names()) {
    const module_section* in = r.find(name);
    if (!in && !builtin.by_default(name)) continue;
    declarations.emplace_back(name,
                              in && !in->metrics.empty() ? in->metrics : builtin.create(name)->metrics());
  }
  for (const auto& section : r.modules)
    if (!builtin.contains(section.name)) declarations.emplace_back(section.name, section.metrics);
  std::vector<planned> plan;
  for (const auto& [module, metrics] : declarations)
    for (const auto& m : metrics) {
      if (!m.chart) continue;
      auto it =
          std::find_if(plan.begin(), plan.end(), [&](const planned& p) { return p.spec->id == m.chart->id; });
      if (it == plan.end()) {
        plan.push_back({&*m.chart, m.unit, {}});
        it = plan.end() - 1;
      }
      if (m.section == every_section) {
        std::vector<std::string> kinds;
        for (const auto& row : rows)
          if (row.module == module && !row.kind.empty() &&
              std::find(kinds.begin(), kinds.end(), row.kind) == kinds.end())
            kinds.push_back(row.kind);
        for (const auto& k : kinds) it->series.push_back({m.chart->series_order, {k, module, k, m.name}});
      } else {
        it->series.push_back(
            {m.chart->series_order,
             {m.chart->series.empty() ? module : m.chart->series, module, m.section, m.name}});
      }
    }
  std::stable_sort(plan.begin(), plan.end(),
                   [](const planned& x, const planned& y) { return x.spec->order < y.spec->order; });
  out += "<section id=\"charts\">\n<h2>Charts</h2>\n<div class=\"charts\">\n";
  for (auto& p : plan) {
    std::stable_sort(p.series.begin(), p.series.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<series_spec> specs;
    for (auto& [order, spec] : p.series) specs.push_back(std::move(spec));
    if (p.spec->matrix && !specs.empty())
      out += render_matrix(rows, p.spec->id, p.spec->caption, std::string(to_string(p.u)), p.spec->note,
                           specs.front());
    else
      out += render_chart(make_chart(rows, p.spec->id, p.spec->caption, std::string(to_string(p.u)),
                                     p.spec->reference, p.spec->note, specs));
  }
  out += "</div>\n</section>\n";

  // Every value, as tables.
  for (const auto& section : r.modules) {
    const std::string& module = section.name;
    out += fmt::format("<section id=\"module-{0}\">\n<h2>{0}</h2>\n", html_escape(module));
    if (section.status != module_status::ok) {
      out += fmt::format("<p class=\"status\">{}: {}</p>\n</section>\n",
                         html_escape(to_string(section.status)), html_escape(section.reason));
      continue;
    }
    std::vector<std::string> order;
    std::map<std::string, std::vector<const metric_row*>> groups;
    for (const auto& row : rows) {
      if (row.module != module) continue;
      std::string key = row.judge.empty() ? "all judges" : row.kind;
      if (row.per_model) key += key.empty() ? "by model" : ", by model";
      if (row.per_opponent) key += key.empty() ? "by opponent" : ", by opponent";
      if (!row.task.empty()) key += key.empty() ? "by task" : ", by task";
      if (!row.run.empty()) key += key.empty() ? "by run" : ", by run";
      if (!groups.count(key)) order.push_back(key);
      groups[key].push_back(&row);
    }
    if (order.empty()) out += "<p class=\"empty\">No judge has a value.</p>\n";
    for (const auto& key : order) {
      if (!key.empty()) out += "<h3>" + html_escape(key) + "</h3>\n";
      out += long_table(groups[key]);
    }
    for (const auto& e : section.extras)
      if (e.path.size() == 1 && e.path[0] == "diagnostics")
        out += "<h3>Diagnostics</h3>\n" + key_value_table(e.value);
    out += "</section>\n";
  }

  if (j.contains("compare")) {
    const auto table = detail::compare_table(r, true);
    out += fmt::format(
        "<section id=\"compare\">\n<h2>Compare</h2>\n<p class=\"meta\">Paired on {} shared items, {} "
        "resamples.</p>\n<div class=\"scroll\"><table>\n",
        j["compare"].value("items", 0), j["compare"].value("resamples", 0));
    for (std::size_t k = 0; k < table.size(); ++k) {
      out += k == 0 ? "<thead><tr>" : "<tr>";
      for (const auto& cell : table[k])
        out += (k == 0 ? "<th scope=\"col\">" : "<td>") + html_escape(cell) + (k == 0 ? "</th>" : "</td>");
      out += k == 0 ? "</tr></thead>\n<tbody>\n" : "</tr>\n";
    }
    out += "</tbody></table></div>\n</section>\n";
  }
  // Diagnostics.
  out += "<section id=\"diagnostics\">\n<h2>Diagnostics</h2>\n";
  json diag = j["diagnostics"];
  json first_errors = diag.contains("first_errors") ? diag["first_errors"] : json::array();
  json warnings = diag.contains("warnings") ? diag["warnings"] : json::array();
  diag.erase("first_errors");
  diag.erase("warnings");
  out += key_value_table(diag);
  if (!warnings.empty()) {
    out += "<h3>Warnings</h3>\n<ul>\n";
    for (const auto& w : warnings) out += "<li>" + html_escape(w.get<std::string>()) + "</li>\n";
    out += "</ul>\n";
  }
  if (!first_errors.empty()) {
    out +=
        "<h3>First skipped lines</h3>\n<div class=\"scroll\"><table>\n<thead><tr><th scope=\"col\">where</th>"
        "<th scope=\"col\">reason</th><th scope=\"col\">message</th></tr></thead>\n<tbody>\n";
    for (const auto& e : first_errors)
      out += fmt::format("<tr><td>{}:{}:{}</td><td>{}</td><td>{}</td></tr>\n",
                         html_escape(e.value("path", "")), e.value("line", 0), e.value("column", 0),
                         html_escape(e.value("reason", "")), html_escape(e.value("message", "")));
    out += "</tbody></table></div>\n";
  }
  out += "<h3>Settings</h3>\n" + key_value_table(j["config"]);
  out += "</section>\n</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace judgebias
