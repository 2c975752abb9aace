// The report's tidy rows and its CSV, Markdown and terminal forms (the HTML page is in html.cpp).
#include "judgebias/writers.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "judgebias/error.hpp"
#include "report/report_text.hpp"

namespace judgebias {

using json = nlohmann::ordered_json;

namespace {

// A text cell: visible escapes for what printable() escapes, then a `'` before what a spreadsheet
// would read as a formula (= + - @, a tab or a carriage return first; OWASP's CSV injection advice),
// then RFC 4180 quoting. Number cells are written by csv_number and never prefixed.
std::string csv_field(std::string_view s) {
  std::string text = printable(s);
  if (!s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos)
    text.insert(text.begin(), '\'');
  if (text.find_first_of(",\"") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(const std::optional<double>& v) {
  return v ? fmt::format("{}", *v) : "";
}

// Markdown: a cell's text with line ends and tabs as spaces, the rest printable(), and the
// characters that would end or format a cell escaped.
std::string md_escape(std::string_view s) {
  std::string flat(s);
  std::replace_if(
      flat.begin(), flat.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  std::string out;
  for (char c : printable(flat)) {
    if (c == '|' || c == '\\' || c == '*' || c == '`' || c == '[' || c == ']' || c == '<' || c == '>' ||
        c == '#')
      out += '\\';
    out += c;
  }
  return out;
}

// One table: first column the row label, one column per metric, in first-seen order.
struct grid {
  std::vector<std::string> columns;                                        // metric names
  std::map<std::string, std::string> units;                                // metric → unit
  std::vector<std::string> labels;                                         // rows, first-seen order
  std::map<std::pair<std::string, std::string>, const metric_row*> cells;  // (label, metric)
};

void grid_add(grid& g, const std::string& label, const metric_row& r) {
  if (std::find(g.columns.begin(), g.columns.end(), r.metric) == g.columns.end())
    g.columns.push_back(r.metric);
  g.units.emplace(r.metric, r.unit);
  if (std::find(g.labels.begin(), g.labels.end(), label) == g.labels.end()) g.labels.push_back(label);
  g.cells[{label, r.metric}] = &r;
}

std::string md_table(const grid& g, const std::string& first) {
  std::string out = "| " + first + " |";
  for (const auto& c : g.columns) out += fmt::format(" {} ({}) |", md_escape(c), md_escape(g.units.at(c)));
  out += "\n|---|";
  for (std::size_t k = 0; k < g.columns.size(); ++k) out += "---:|";
  out += "\n";
  for (const auto& label : g.labels) {
    out += "| " + md_escape(label) + " |";
    for (const auto& c : g.columns) {
      auto it = g.cells.find({label, c});
      out += " " + (it == g.cells.end() ? std::string() : detail::cell_text_with_mde(*it->second)) + " |";
    }
    out += "\n";
  }
  return out;
}

// The length of the valid UTF-8 sequence at s[i] (2 to 4 bytes) and its code point, or 0 when the
// bytes there are not one (a stray continuation byte, an overlong form, a surrogate, a truncated
// sequence, a lead byte above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2, cp = b & 0x1Fu;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3, cp = b & 0x0Fu;
    if (b == 0xE0) lo = 0xA0;  // no overlong forms
    if (b == 0xED) hi = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4, cp = b & 0x07u;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return 0;
    cp = (cp << 6) | (c & 0x3Fu);
  }
  return len;
}

// Code points that act instead of showing: C1 controls (U+009B is a CSI to some terminals), the bidi
// controls that reorder the text around them, and the line and paragraph separators.
bool acts(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string printable(std::string_view s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7F;
  });
  if (plain) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  for (std::size_t i = 0; i < s.size();) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x20 && u < 0x7F) {
      out += s[i++];
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = u < 0x80 ? 0 : utf8_sequence(s, i, cp);
    if (len == 0) {  // an ASCII control, DEL, or a byte that is not valid UTF-8
      out += fmt::format("\\x{:02x}", u);
      ++i;
    } else {
      if (acts(cp))
        out += fmt::format("\\u{{{:04x}}}", static_cast<std::uint32_t>(cp));
      else
        out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

output_format format_of_path(const std::string& path) {
  auto ends = [&](std::string_view ext) {
    if (path.size() < ext.size()) return false;
    return std::equal(ext.rbegin(), ext.rend(), path.rbegin(),
                      [](char e, char c) { return e == (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  };
  if (ends(".json")) return output_format::json;
  if (ends(".md") || ends(".markdown")) return output_format::markdown;
  if (ends(".csv")) return output_format::csv;
  if (ends(".html") || ends(".htm")) return output_format::html;
  throw usage_error(
      fmt::format("-o {}: the extension chooses the format; use .json, .md, .csv or .html", path));
}

std::string render(const report& r, output_format f) {
  switch (f) {
    case output_format::json:
      return r.dump();
    case output_format::markdown:
      return to_markdown(r);
    case output_format::csv:
      return to_csv(r);
    case output_format::html:
      return to_html(r);
  }
  return r.dump();
}

std::string to_csv(const report& r) {
  std::string out =
      "module,kind,judge,model,opponent,task,run,metric,value,ci_low,ci_high,n,p,unit,reason,mde\r\n";
  for (const auto& row : tidy_rows(r)) {
    out +=
        fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n", csv_field(row.module),
                    csv_field(row.kind), csv_field(row.judge), csv_field(row.model), csv_field(row.opponent),
                    csv_field(row.task), csv_field(row.run), csv_field(row.metric), csv_number(row.value),
                    csv_number(row.ci_low), csv_number(row.ci_high), row.n, csv_number(row.p),
                    csv_field(row.unit), csv_field(row.reason), csv_number(row.mde));
  }
  return out;
}

std::string to_markdown(const report& r) {
  const json& j = r.meta;
  std::string out = "# judgebias report\n\n";
  out += detail::inputs_line(r, md_escape) + "\n\n";
  out += fmt::format("Intervals: {:g} % ({}).\n", 100 * j["config"].value("confidence", 0.95),
                     detail::interval_method(r));
  const auto rows = tidy_rows(r);
  for (const auto& section : r.modules) {
    const std::string& module = section.name;
    out += fmt::format("\n## {}\n\n", md_escape(module));
    if (section.status != module_status::ok) {
      out += fmt::format("{}: {}\n", md_escape(to_string(section.status)), md_escape(section.reason));
      continue;
    }
    // One table per (kind, breakdown), in report order.
    std::vector<std::string> order;
    std::map<std::string, grid> grids;
    std::map<std::string, std::string> firsts;
    for (const auto& row : rows) {
      if (row.module != module) continue;
      // The table and its row label from every dimension the row has: judge, model, opponent, task or run.
      std::string key, label = row.judge, first = "judge";
      auto add = [&](const char* what, const char* sep, const std::string& value, const char* head) {
        key += key.empty() ? what : fmt::format(", {}", what);
        label += sep + value;
        first += head;
      };
      if (row.per_model) add("by model", ": ", row.model, ": model");
      if (row.per_opponent) add("by opponent", " vs ", row.opponent, " vs opponent");
      if (!row.task.empty()) add("by task", " / ", row.task, " / task");
      if (!row.run.empty()) add("by run", " / run ", row.run, " / run");
      if (row.judge.empty()) label = "(all judges)";  // only agreement's overall rows have no judge
      if (!row.kind.empty() && !row.judge.empty())
        key = key.empty() ? row.kind : fmt::format("{}, {}", row.kind, key);
      if (!grids.count(key)) order.push_back(key);
      grid_add(grids[key], label, row);
      firsts[key] = first;
    }
    if (order.empty()) out += "No judge has a value.\n";
    for (const auto& key : order) {
      if (!key.empty()) out += fmt::format("### {}\n\n", md_escape(key));
      out += md_table(grids[key], firsts[key]) + "\n";
    }
  }
  if (j.contains("compare")) {
    const auto table = detail::compare_table(r, true);
    out += fmt::format("\n## Compare\n\nPaired on {} shared items, {} resamples.\n\n",
                       j["compare"].value("items", 0), j["compare"].value("resamples", 0));
    for (std::size_t k = 0; k < table.size(); ++k) {
      out += "|";
      for (const auto& cell : table[k]) out += " " + md_escape(cell) + " |";
      out += k == 0 ? "\n|---|---:|---:|---:|---:|\n" : "\n";
    }
  }
  const json& diag = j["diagnostics"];
  out += "\n## Diagnostics\n\n";
  out += fmt::format("- lines: {}, records: {}, skipped: {}, duplicates: {}, extraction failures: {}\n",
                     diag.value("lines", 0), diag.value("records", 0), diag.value("skipped", 0),
                     diag.value("duplicates", 0), diag.value("extraction_failures", 0));
  if (diag.contains("skipped_by_reason"))
    for (const auto& [reason, n] : diag["skipped_by_reason"].items())
      out += fmt::format("- skipped as {}: {}\n", md_escape(reason), n.get<std::uint64_t>());
  if (diag.contains("warnings"))
    for (const auto& w : diag["warnings"]) out += "- warning: " + md_escape(w.get<std::string>()) + "\n";
  return out;
}

namespace {

// The columns of a block: the metrics the module declares as its headline there, in their order.
std::vector<std::string> headline(const module_section& section, std::string_view kind) {
  std::vector<const metric_info*> shown;
  for (const metric_info* m : section.declared(kind))
    if (m->headline > 0) shown.push_back(m);
  std::stable_sort(shown.begin(), shown.end(),
                   [](const metric_info* x, const metric_info* y) { return x->headline < y->headline; });
  std::vector<std::string> out;
  out.reserve(shown.size());
  for (const metric_info* m : shown) out.push_back(m->name);
  return out;
}

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0u) != 0x80u;
  return n;
}
}  // namespace

std::string format_table(const report& r, const table_style& style) {
  const json& j = r.meta;
  auto paint = [&](std::string_view code, const std::string& s) {
    return style.color ? fmt::format("\x1b[{}m{}\x1b[0m", code, s) : s;
  };
  std::string out;
  std::uint64_t bytes = 0;
  std::vector<std::string> names;
  for (const auto& in : j["inputs"]) {
    bytes += in.value("bytes", std::uint64_t{0});
    names.push_back(printable(in.value("path", "")));
  }
  const json& diag = j["diagnostics"];
  out += fmt::format(
      "judgebias {}: {} records from {} ({} bytes); {} skipped, {} duplicates, {} extraction failures{}\n",
      printable(j["tool"].value("version", "")), diag.value("records", 0), fmt::join(names, ", "), bytes,
      diag.value("skipped", 0), diag.value("duplicates", 0), diag.value("extraction_failures", 0),
      diag.value("out_of_scale", 0) > 0
          ? fmt::format(" ({} scores out of scale)", diag.value("out_of_scale", 0))
          : std::string());
  const auto rows = tidy_rows(r);
  if (j.contains("compare")) {
    auto table = detail::compare_table(r, false);
    for (auto& line : table)
      for (auto& cell : line) cell = printable(cell);
    out += "\n" +
           paint("1", fmt::format("compare (paired, {} shared items, {} resamples)",
                                  j["compare"].value("items", 0), j["compare"].value("resamples", 0))) +
           "\n";
    std::vector<std::size_t> width(5, 0);
    for (const auto& line : table)
      for (std::size_t k = 0; k < line.size(); ++k) width[k] = std::max(width[k], display_width(line[k]));
    for (const auto& line : table) {
      std::string text = " ";
      for (std::size_t k = 0; k < line.size(); ++k)
        text += " " + line[k] + std::string(width[k] - display_width(line[k]), ' ');
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + "\n";
    }
  }
  for (const auto& section : r.modules) {
    const std::string& name = section.name;
    if (section.status != module_status::ok) {
      out += "\n" + paint("1", printable(name)) + ": " +
             paint(section.status == module_status::error ? "31" : "2",
                   printable(fmt::format("{} ({})", to_string(section.status), section.reason))) +
             "\n";
      continue;
    }
    // One block per kind (cue kinds, counterfactual verbosity), judges as rows; breakdowns stay in files.
    std::vector<std::string> kinds;
    for (const auto& row : rows)
      if (row.module == name && !row.judge.empty() && !row.per_opponent && row.task.empty() &&
          row.run.empty() && std::find(kinds.begin(), kinds.end(), row.kind) == kinds.end())
        kinds.push_back(row.kind);
    if (kinds.empty()) {
      out += "\n" + paint("1", printable(name)) + "\n  (no judge has a value to show)\n";
      continue;
    }
    for (const auto& kind : kinds) {
      out += '\n';
      out += paint("1", printable(kind.empty() ? name : fmt::format("{}.{}", name, kind)));
      out += '\n';
      std::vector<const metric_row*> mine;
      for (const auto& row : rows)
        if (row.module == name && row.kind == kind && !row.per_opponent && row.task.empty() &&
            row.run.empty())
          mine.push_back(&row);
      // A table row per judge, or per judge and model for per-model metrics (winrate's).
      auto row_name = [](const metric_row& m) { return m.per_model ? m.judge + ": " + m.model : m.judge; };
      // The declared headline; a module without one (a report of an unknown module) shows its first three.
      std::vector<std::string> cols = headline(section, kind), judges;
      if (cols.empty())
        for (const auto* row : mine)
          if (cols.size() < 3 && std::find(cols.begin(), cols.end(), row->metric) == cols.end())
            cols.push_back(row->metric);
      std::erase_if(cols, [&](const std::string& c) {
        return std::none_of(mine.begin(), mine.end(),
                            [&](const metric_row* m) { return m->metric == c && m->value; });
      });
      for (const auto* row : mine)
        if (std::find(judges.begin(), judges.end(), row_name(*row)) == judges.end())
          judges.push_back(row_name(*row));
      const bool models =
          std::any_of(mine.begin(), mine.end(), [](const metric_row* m) { return m->per_model; });
      if (cols.empty()) {
        out += "  (no judge has a value to show)\n";
        continue;
      }
      std::vector<std::vector<std::string>> table;
      table.push_back({models ? "judge: model" : "judge"});
      for (const auto& c : cols) {
        std::string unit;
        for (const auto* m : mine)
          if (m->metric == c) unit = m->unit;
        table[0].push_back(printable(fmt::format("{} ({})", c, unit)));
      }
      for (const auto& judge : judges) {
        std::vector<std::string> line{printable(judge)};
        for (const auto& c : cols) {
          auto it = std::find_if(mine.begin(), mine.end(), [&](const metric_row* m) {
            return row_name(*m) == judge && m->metric == c;
          });
          line.push_back(it == mine.end() ? "" : detail::cell_text(**it));
        }
        table.push_back(std::move(line));
      }
      std::vector<std::size_t> width(table[0].size(), 0);
      for (const auto& line : table)
        for (std::size_t k = 0; k < line.size(); ++k) width[k] = std::max(width[k], display_width(line[k]));
      for (const auto& line : table) {
        std::string text = " ";
        for (std::size_t k = 0; k < line.size(); ++k) {
          std::string cell = line[k] + std::string(width[k] - display_width(line[k]), ' ');
          if (style.color && line[k] == "null") cell = paint("2", cell);
          text += " " + cell;
        }
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out += text + "\n";
      }
    }
  }
  return out;
}

namespace detail {

std::vector<std::vector<std::string>> compare_table(const report& r, bool breakdowns) {
  std::vector<std::vector<std::string>> rows;
  if (!r.meta.contains("compare")) return rows;
  const json& c = r.meta["compare"];
  rows.push_back({"metric", c["judges"][0].get<std::string>(), c["judges"][1].get<std::string>(),
                  "difference", "interval"});
  for (const auto& m : c["metrics"]) {
    const bool breakdown =
        m.contains("opponent") || m.contains("task") || m.contains("run");  // a model is not one
    if (breakdown && !breakdowns) continue;
    std::string name = m.value("module", "") + (m.contains("kind") ? "." + m.value("kind", "") : "") + "." +
                       m.value("metric", "");
    if (m.contains("model")) name += " of " + m.value("model", "");
    if (m.contains("opponent")) name += " vs " + m.value("opponent", "");
    if (m.contains("task")) name += " task " + m.value("task", "");
    if (m.contains("run")) name += " run " + m.value("run", "");
    const std::string unit = m.value("unit", "");
    std::string ci = m["ci"].is_array() ? fmt::format("[{}, {}]", number_text(m["ci"][0].get<double>(), unit),
                                                      number_text(m["ci"][1].get<double>(), unit))
                                        : m.value("reason", "");
    rows.push_back({fmt::format("{} ({})", name, unit), number_text(m["a"].get<double>(), unit),
                    number_text(m["b"].get<double>(), unit), number_text(m["value"].get<double>(), unit),
                    ci});
  }
  return rows;
}

}  // namespace detail

}  // namespace judgebias
