#pragma once
// Breakdowns shared by the modules: `--by task` and `--by run` groups of one judge's records.

#include <algorithm>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json_object.hpp"
#include "judgebias/dataset.hpp"
#include "judgebias/module.hpp"

namespace judgebias::detail {

/// Which of a judge's records a measurement uses: all of them, or one breakdown group's. A group
/// carries its own records and comparisons, so that measuring every group of a judge costs one pass
/// over the judge's records in all (not one per group).
struct group_filter {
  enum class by { all, task, run } kind = by::all;
  std::uint32_t id = 0;
  std::span<const dataset::index> group_records;     // a group's records of the judge, in index order
  std::span<const std::uint32_t> group_comparisons;  // the judge's comparisons with a record in the group

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
  /// The judge's records to look at (each still to be checked with pass() where a comparison's other
  /// records are reached through the comparison).
  std::span<const dataset::index> records(const dataset& d, std::uint32_t judge) const {
    return kind == by::all ? d.records_of_judge(judge) : group_records;
  }
  /// The judge's comparisons with at least one record in the group.
  std::span<const std::uint32_t> comparisons(const dataset& d, std::uint32_t judge) const {
    return kind == by::all ? d.comparisons_of_judge(judge) : group_comparisons;
  }
};

/// The `by` groups ("task" or "run") among one judge's records, sorted by name bytes (runs as decimal
/// text), each with its records and comparisons. Records without a task are in no task group.
class judge_groups {
 public:
  judge_groups(const dataset& d, std::uint32_t judge, const std::string& by) {
    const bool tasks = by == "task";
    const group_filter::by kind = tasks ? group_filter::by::task : group_filter::by::run;
    auto key_of = [&](dataset::index i) { return tasks ? d.task(i) : d.run(i); };
    std::unordered_map<std::uint32_t, std::size_t> slot;
    for (auto i : d.records_of_judge(judge)) {
      if (tasks && d.task(i) == no_id) continue;
      auto [it, added] = slot.try_emplace(key_of(i), groups_.size());
      if (added)
        groups_.push_back(
            {tasks ? d.tasks().name(key_of(i)) : fmt::format("{}", key_of(i)), kind, key_of(i), {}, {}});
      groups_[it->second].records.push_back(i);
    }
    for (std::uint32_t c : d.comparisons_of_judge(judge))
      for (auto i : d.comparison_records(c)) {
        if (tasks && d.task(i) == no_id) continue;
        auto& list = groups_[slot.at(key_of(i))].comparisons;
        if (list.empty() || list.back() != c) list.push_back(c);
      }
    for (auto& g : groups_) {  // a comparison's records may come in any order of groups
      std::sort(g.comparisons.begin(), g.comparisons.end());
      g.comparisons.erase(std::unique(g.comparisons.begin(), g.comparisons.end()), g.comparisons.end());
    }
    std::sort(groups_.begin(), groups_.end(), [](const group& x, const group& y) { return x.name < y.name; });
  }

  std::size_t size() const noexcept { return groups_.size(); }
  const std::string& name(std::size_t k) const { return groups_[k].name; }
  group_filter filter(std::size_t k) const {
    const group& g = groups_[k];
    return group_filter{g.kind, g.id, g.records, g.comparisons};
  }

 private:
  struct group {
    std::string name;
    group_filter::by kind;
    std::uint32_t id;
    std::vector<dataset::index> records;
    std::vector<std::uint32_t> comparisons;
  };
  std::vector<group> groups_;
};

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
      const judge_groups groups(d, j, by);
      for (std::size_t k = 0; k < groups.size(); ++k)
        append_member(per, groups.name(k), measure(j, groups.filter(k), by + "=" + groups.name(k)));
      append_member(out, d.judges().name(j), std::move(per));
    }
    body[fmt::format("by_{}", by)] = std::move(out);
  }
}

}  // namespace judgebias::detail
