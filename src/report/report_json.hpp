#pragma once
// The JSON keys of the typed report, shared by its tree form (report.cpp) and its streamed text
// (json_stream.cpp).

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "judgebias/report.hpp"

namespace judgebias::detail {

// The key of a row's scope under its (sub-)section: judges, by_task, by_run or overall.
std::string_view scope_key(row_scope s);
// The keys of a row's metric under its module: section, scope key, judge, group, by_opponent and
// opponent where they apply, the metric's name.
void row_path(const report_row& row, std::vector<std::string_view>& path);
// One module's section as a JSON object: status, then (when ok) its rows and extras in order.
nlohmann::ordered_json section_json(const module_section& s);

// The report's top-level members in order, for every form of its JSON: member(key, value) for meta's,
// and modules(kept) once, after diagnostics (or before compare, or last). `kept` is a "modules" that
// stayed in meta (a report whose modules were not an object), written there instead of the typed
// modules; nullptr otherwise.
template <class Member, class Modules>
void top_level_members(const report& r, Member&& member, Modules&& modules) {
  const auto found = r.meta.find("modules");
  const nlohmann::ordered_json* kept = found == r.meta.end() ? nullptr : &*found;
  bool placed = false;
  auto place = [&]() {
    if (!placed) modules(kept);
    placed = true;
  };
  for (const auto& [key, v] : r.meta.items()) {
    if (key == "modules") {
      place();
      continue;
    }
    if (key == "compare") place();
    member(key, v);
    if (key == "diagnostics") place();
  }
  place();
}

}  // namespace judgebias::detail
