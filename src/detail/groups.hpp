#pragma once
// Breakdowns shared by the modules: `--by task` and `--by run` groups of one judge's records.

#include <map>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "judgebias/dataset.hpp"
#include "judgebias/module.hpp"

namespace judgebias::detail {

/// Which records a breakdown keeps.
struct group_filter {
  enum class by { all, task, run } kind = by::all;
  std::uint32_t id = 0;
  bool pass(const dataset& d, dataset::index i) const {
    switch (kind) {
      case by::all:
        return true;
      case by::task:
        return d.task(i) == id;
      case by::run:
        return d.run(i) == id;
    }
    return true;
  }
};

/// The groups among a judge's records for `by` ("task" or "run"), keyed and sorted by name bytes
/// (runs as decimal text). Records without a task are in no task group.
inline std::map<std::string, group_filter> groups_of_judge(const dataset& d, std::uint32_t judge,
                                                           const std::string& by) {
  std::map<std::string, group_filter> groups;
  for (auto i : d.records_of_judge(judge)) {
    if (by == "task") {
      if (d.task(i) == no_id) continue;
      groups.try_emplace(d.tasks().name(d.task(i)), group_filter{group_filter::by::task, d.task(i)});
    } else {
      groups.try_emplace(fmt::format("{}", d.run(i)), group_filter{group_filter::by::run, d.run(i)});
    }
  }
  return groups;
}

/// Whether any record of a measured judge satisfies `pred` (stops at the first).
template <class Pred>
bool any_measured_record(const dataset& d, Pred&& pred) {
  for (std::uint32_t j : d.measured_judges())
    for (auto i : d.records_of_judge(j))
      if (pred(i)) return true;
  return false;
}

/// Adds the `by_task` / `by_run` sections of cfg.by to a module's body:
/// `by_<by>.<judge>.<group>` = measure(judge, filter, "<by>=<group>") for every measured judge.
template <class Measure>
void add_breakdowns(nlohmann::ordered_json& body, const dataset& d, const config& cfg, Measure&& measure) {
  for (const auto& by : cfg.by) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (std::uint32_t j : d.measured_judges()) {
      nlohmann::ordered_json per = nlohmann::ordered_json::object();
      for (const auto& [name, filter] : groups_of_judge(d, j, by))
        per[name] = measure(j, filter, by + "=" + name);
      out[d.judges().name(j)] = std::move(per);
    }
    body[fmt::format("by_{}", by)] = std::move(out);
  }
}

}  // namespace judgebias::detail
