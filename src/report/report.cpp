// The typed report: its JSON form (written and read back) and its tidy rows.
#include "judgebias/report.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <unordered_map>

#include "common/json_object.hpp"
#include "common/json_tree.hpp"
#include "judgebias/output.hpp"
#include "judgebias/registry.hpp"
#include "report/report_json.hpp"

namespace judgebias {

using json = nlohmann::ordered_json;

namespace {

constexpr std::array<std::string_view, 3> scope_keys = {"judges", "by_task", "by_run"};

bool is_metric(const json& v) {
  return v.is_object() && v.contains("unit") && v.contains("n");
}

// Whether an object is a sub-section: it holds judges, breakdowns or overall values.
bool is_section(const json& v) {
  if (!v.is_object()) return false;
  for (auto key : scope_keys)
    if (v.contains(key)) return true;
  return v.contains("overall");
}

unit unit_of(std::string_view s) {
  for (unit u : {unit::fraction, unit::pp, unit::score, unit::coefficient, unit::count})
    if (to_string(u) == s) return u;
  return unit::fraction;
}

std::optional<double> number(const json& v) {
  if (v.is_number()) return v.get<double>();
  return std::nullopt;
}

// Reads one module section (or sub-section) into rows and extras, in the order of its keys.
class section_reader {
 public:
  explicit section_reader(module_section& out) : out_(out) {}

  void section(const json& obj, const std::vector<std::string>& prefix, bool top) {
    for (const auto& [key, v] : obj.items()) {
      if (top && (key == "status" || (key == "reason" && out_.status != module_status::ok))) continue;
      std::vector<std::string> path = prefix;
      path.push_back(key);
      if (v.is_object() && std::find(scope_keys.begin(), scope_keys.end(), key) != scope_keys.end()) {
        keep_if_empty(path, v);
        const row_scope scope = key == "judges"    ? row_scope::judge
                                : key == "by_task" ? row_scope::task
                                                   : row_scope::run;
        for (const auto& [judge, jv] : v.items()) {
          auto jpath = path;
          jpath.push_back(judge);
          if (scope == row_scope::judge) {
            judge_object(jv, jpath, prefix, scope, judge, "");
            continue;
          }
          if (!jv.is_object()) {
            extra(jpath, jv);
            continue;
          }
          keep_if_empty(jpath, jv);
          for (const auto& [group, gv] : jv.items()) {
            auto gpath = jpath;
            gpath.push_back(group);
            judge_object(gv, gpath, prefix, scope, judge, group);
          }
        }
      } else if (key == "overall" && v.is_object()) {
        keep_if_empty(path, v);
        for (const auto& [name, m] : v.items()) {
          if (!is_metric(m)) {
            auto mpath = path;
            mpath.push_back(name);
            extra(mpath, m);
            continue;
          }
          push(prefix, row_scope::overall, "", "", nullptr, "", false, name, m);
        }
      } else if (key == "kinds" && v.is_object()) {
        keep_if_empty(path, v);
        for (const auto& [kind, kv] : v.items()) {
          auto kpath = path;
          kpath.push_back(kind);
          if (!kv.is_object()) {
            extra(kpath, kv);
            continue;
          }
          keep_if_empty(kpath, kv);
          section(kv, kpath, false);
        }
      } else if (is_section(v)) {
        section(v, path, false);
      } else {
        extra(path, v);
      }
    }
  }

 private:
  // A judge's (or a group's) metrics and its per-opponent ones; under `models`, each model's metrics
  // and per-opponent ones the same way (`model` set, not empty, for those).
  void judge_object(const json& v, const std::vector<std::string>& path,
                    const std::vector<std::string>& prefix, row_scope scope, const std::string& judge,
                    const std::string& group, const std::string* model = nullptr) {
    if (!v.is_object()) {
      extra(path, v);
      return;
    }
    keep_if_empty(path, v);
    for (const auto& [name, m] : v.items()) {
      if (is_metric(m)) {
        push(prefix, scope, judge, group, model, "", false, name, m);
      } else if (name == "by_opponent" && m.is_object()) {
        auto opath = path;
        opath.push_back(name);
        keep_if_empty(opath, m);
        for (const auto& [opponent, om] : m.items()) {
          auto mpath = opath;
          mpath.push_back(opponent);
          if (!om.is_object()) {
            extra(mpath, om);
            continue;
          }
          keep_if_empty(mpath, om);
          for (const auto& [mn, mv] : om.items()) {
            if (is_metric(mv)) {
              push(prefix, scope, judge, group, model, opponent, true, mn, mv);
            } else {
              auto xpath = mpath;
              xpath.push_back(mn);
              extra(xpath, mv);
            }
          }
        }
      } else if (name == "models" && !model && scope != row_scope::overall && m.is_object()) {
        auto mpath = path;
        mpath.push_back(name);
        keep_if_empty(mpath, m);
        for (const auto& [model_name, mv] : m.items()) {
          auto one = mpath;
          one.push_back(model_name);
          judge_object(mv, one, prefix, scope, judge, group, &model_name);
        }
      } else {
        auto xpath = path;
        xpath.push_back(name);
        extra(xpath, m);
      }
    }
  }
  void push(const std::vector<std::string>& prefix, row_scope scope, const std::string& judge,
            const std::string& group, const std::string* model, const std::string& opponent,
            bool per_opponent, const std::string& name, const json& m) {
    report_row row;
    row.section = prefix;
    row.scope = scope;
    row.judge = judge;
    row.group = group;
    row.per_model = model != nullptr;
    if (model) row.model = *model;
    row.opponent = opponent;
    row.per_opponent = per_opponent;
    row.metric = name;
    row.value = metric_from_json(m);
    out_.rows.push_back(std::move(row));
  }
  void extra(const std::vector<std::string>& path, const json& v) {
    out_.extras.push_back(section_extra{path, v, out_.rows.size()});
  }
  // An empty object stays in the JSON form: no row would make it.
  void keep_if_empty(const std::vector<std::string>& path, const json& v) {
    if (v.is_object() && v.empty()) extra(path, json::object());
  }

  module_section& out_;
};

}  // namespace

metric metric_from_json(const json& m) {
  metric out;
  out.value = number(m.value("value", json()));
  if (m.contains("ci") && m["ci"].is_array() && m["ci"].size() == 2 && m["ci"][0].is_number() &&
      m["ci"][1].is_number())
    out.ci = std::array<double, 2>{m["ci"][0].get<double>(), m["ci"][1].get<double>()};
  if (m.contains("n") && m["n"].is_number()) out.n = m["n"].get<std::uint64_t>();
  if (m.contains("p")) out.p = number(m["p"]);
  if (m.contains("mde")) out.mde = number(m["mde"]);
  if (m.contains("unit") && m["unit"].is_string()) out.unit = unit_of(m["unit"].get<std::string>());
  if (m.contains("reason") && m["reason"].is_string()) out.reason = m["reason"].get<std::string>();
  return out;
}

namespace detail {

std::string_view scope_key(row_scope s) {
  switch (s) {
    case row_scope::judge:
      return "judges";
    case row_scope::task:
      return "by_task";
    case row_scope::run:
      return "by_run";
    case row_scope::overall:
      return "overall";
  }
  return "judges";
}

void row_path(const report_row& row, std::vector<std::string_view>& path) {
  path.clear();
  for (const auto& s : row.section) path.emplace_back(s);
  path.push_back(scope_key(row.scope));
  if (row.scope != row_scope::overall) path.emplace_back(row.judge);
  if (row.scope == row_scope::task || row.scope == row_scope::run) path.emplace_back(row.group);
  if (row.per_model) {
    path.emplace_back("models");
    path.emplace_back(row.model);
  }
  if (row.per_opponent) {
    path.emplace_back("by_opponent");
    path.emplace_back(row.opponent);
  }
  path.emplace_back(row.metric);
}

json section_json(const module_section& s) {
  json out = json::object();
  out["status"] = std::string(to_string(s.status));
  if (s.status != module_status::ok) {
    out["reason"] = s.reason;
    return out;
  }
  detail::json_tree tree;
  std::vector<std::string_view> path;
  auto put_extra = [&](const section_extra& e) {
    path.assign(e.path.begin(), e.path.end());
    const std::size_t n = tree.at(path);
    if (!(e.value.is_object() && e.value.empty())) tree.set(n, e.value);
  };
  std::size_t x = 0;
  for (std::size_t k = 0; k < s.rows.size(); ++k) {
    for (; x < s.extras.size() && s.extras[x].after_rows <= k; ++x) put_extra(s.extras[x]);
    row_path(s.rows[k], path);
    tree.set(tree.at(path), judgebias::to_json(s.rows[k].value));
  }
  for (; x < s.extras.size(); ++x) put_extra(s.extras[x]);
  json body = tree.take();
  for (auto& [key, v] : body.items()) detail::append_member(out, key, std::move(v));
  return out;
}

}  // namespace detail

const module_section* report::find(std::string_view module) const noexcept {
  for (const auto& m : modules)
    if (m.name == module) return &m;
  return nullptr;
}

json report::to_json() const {
  json out = json::object();
  detail::top_level_members(
      *this, [&](const std::string& key, const json& v) { detail::append_member(out, key, v); },
      [&](const json* kept) {
        json all = json::object();
        if (kept)
          all = *kept;
        else
          for (const auto& m : modules) detail::append_member(all, m.name, detail::section_json(m));
        detail::append_member(out, "modules", std::move(all));
      });
  return out;
}

// Messages quote the input; should one ever carry invalid UTF-8, its bytes are written as U+FFFD
// rather than failing the whole report.
std::string report::dump() const {
  std::string out;
  write_json(*this, [&](std::string_view piece) { out += piece; });
  return out;
}

report report_from_json(const json& j) {
  module_registry builtin;
  register_builtin_modules(builtin);
  return report_from_json(j, builtin);
}

report report_from_json(const json& j, const module_registry& registry) {
  report r;
  if (!j.is_object()) return r;
  for (const auto& [key, v] : j.items()) {
    if (key != "modules" || !v.is_object()) {
      r.meta[key] = v;
      continue;
    }
    for (const auto& [name, s] : v.items()) {
      r.modules.push_back(module_section_from_json(name, s));
      if (registry.contains(name)) r.modules.back().metrics = registry.create(name)->metrics();
    }
  }
  return r;
}

module_section module_section_from_json(std::string name, const json& s) {
  module_section m;
  m.name = std::move(name);
  const std::string status = s.is_object() && s.contains("status") && s["status"].is_string()
                                 ? s["status"].get<std::string>()
                                 : std::string();
  m.status = status == "ok"        ? module_status::ok
             : status == "skipped" ? module_status::skipped
                                   : module_status::error;
  if (m.status != module_status::ok)
    m.reason = s.is_object() && s.contains("reason") && s["reason"].is_string()
                   ? s["reason"].get<std::string>()
                   : std::string();
  else
    section_reader(m).section(s, {}, true);
  return m;
}

void write_json_file(const report& r, const std::string& path) {
  write_file_atomic(path, [&](const text_sink& sink) { write_json(r, sink); });
}

void visit_tidy_rows(const report& r,
                     const std::function<void(const module_section&, const report_row&)>& f) {
  for (const auto& m : r.modules) {
    if (m.status != module_status::ok) continue;
    // The module's own section first, then sub-sections in the order they first appear; within each,
    // judges, by_task, by_run, then overall; rows of one (section, scope) in their order. Each row's
    // place is one small number, and the rows are visited sorted by it (stably): no copy of the rows.
    // A sub-section's rows are mostly together: the last one found is tried first, then the map.
    std::map<std::vector<std::string>, std::uint32_t> sections;
    const std::vector<std::string>* last = nullptr;
    std::uint32_t last_rank = 0;
    constexpr std::uint32_t scopes = 4;
    std::vector<std::uint32_t> place(m.rows.size());
    std::vector<std::size_t> filled;
    for (std::size_t k = 0; k < m.rows.size(); ++k) {
      const report_row& row = m.rows[k];
      std::uint32_t s = 0;
      if (!row.section.empty()) {
        if (!last || *last != row.section) {
          last = &row.section;
          last_rank = sections.try_emplace(row.section, static_cast<std::uint32_t>(sections.size() + 1))
                          .first->second;
        }
        s = last_rank;
      }
      place[k] = s * scopes + static_cast<std::uint32_t>(row.scope);
      if (place[k] >= filled.size()) filled.resize(place[k] + 1, 0);
      ++filled[place[k]];
    }
    std::vector<std::size_t> order(m.rows.size());  // a counting sort by place, stable
    std::size_t at = 0;
    for (auto& n : filled) at += std::exchange(n, at);
    for (std::size_t k = 0; k < m.rows.size(); ++k) order[filled[place[k]]++] = k;
    place = {};
    for (std::size_t k : order) f(m, m.rows[k]);
  }
}

metric_row tidy_row(const module_section& m, const report_row& row) {
  metric_row t;
  t.module = m.name;
  t.kind = std::string(row.kind());
  t.judge = row.judge;
  t.model = row.model;
  t.opponent = row.opponent;
  t.per_model = row.per_model;
  t.per_opponent = row.per_opponent;
  if (row.scope == row_scope::task) t.task = row.group;
  if (row.scope == row_scope::run) t.run = row.group;
  t.metric = row.metric;
  const metric& v = row.value;
  const bool has_value = v.value && std::isfinite(*v.value);
  if (has_value) t.value = v.value;
  if (has_value && v.ci && std::isfinite((*v.ci)[0]) && std::isfinite((*v.ci)[1])) {
    t.ci_low = (*v.ci)[0];
    t.ci_high = (*v.ci)[1];
  }
  t.n = v.n;
  if (has_value && v.p && std::isfinite(*v.p)) t.p = v.p;
  if (has_value && v.mde && std::isfinite(*v.mde)) t.mde = v.mde;
  t.unit = std::string(to_string(v.unit));
  t.reason = v.reason.empty() && !has_value ? "not computable" : v.reason;
  return t;
}

std::vector<metric_row> tidy_rows(const report& r) {
  std::vector<metric_row> out;
  visit_tidy_rows(r,
                  [&](const module_section& m, const report_row& row) { out.push_back(tidy_row(m, row)); });
  return out;
}

}  // namespace judgebias
