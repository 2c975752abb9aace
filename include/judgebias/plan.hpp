#pragma once
/// \file Planning a study from a pilot report (`judgebias plan`, docs/metrics.md "Planning a study"): the
/// smallest effect the pilot's data could detect, and how many units a study needs to detect a given one.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "judgebias/report.hpp"

namespace judgebias {

/// What to plan for.
struct plan_options {
  std::string metric = "self_preference.dbg_pairwise";  ///< MODULE.METRIC: a metric reported per judge.
  std::vector<std::string> judges;                      ///< Empty: every judge that has it.
  std::optional<double>
      effect;  ///< The effect to detect: a distance from `null_value`, in the metric's unit.
  /// The value of no bias; nullopt: 0.5 for a rate whose bias is a distance from one half
  /// (first_slot_rate, prefer_longer_rate...), else 0.
  std::optional<double> null_value;
  double alpha = 0.05;  ///< Two-sided level of the test.
  double power = 0.8;   ///< Wanted probability of detecting the effect.
  /// Two judges A, B: plan for the difference A − B of the metric instead (`--compare`). From the
  /// pilot's paired interval when it was run with `--compare A,B` (units: shared items), else from the
  /// two judges' own intervals as if independent (units: the smaller n), which ignores how the two move
  /// together on shared items.
  std::vector<std::string> compare;
  /// Stated, without a pilot (`--sd`, `--rate`): the standard deviation of one unit's contribution to
  /// the metric, in its unit.
  std::optional<double> sd;
  std::optional<std::uint64_t> units;  ///< Stated: the units the data have, for their mde.
};

/// One judge's plan.
struct plan_row {
  std::string judge;
  metric observed;  ///< The pilot's metric.
  double null_value = 0;
  std::optional<double> se;             ///< Its standard error, from its interval.
  std::optional<double> mde;            ///< The smallest |effect| detected with `power` at `alpha`.
  std::optional<std::uint64_t> needed;  ///< Units (the metric's n) to detect `effect`.
  std::string reason;                   ///< Why se is null.
  /// Where se comes from when it is not the judge's own interval: "paired" (a --compare difference from
  /// the pilot's paired interval), "independent" (from the two judges' intervals), "stated" (--sd).
  std::string basis;
};

/// The plan of every judge with the metric: se = interval width / (2 z), with z the normal quantile of
/// the pilot's confidence (a bootstrap interval over items counts the clustering by item); mde =
/// (z_{1-alpha/2} + z_{power}) se; needed = n (mde / effect)^2, rounded up (se shrinks as 1 / sqrt(n)
/// with the units per item held as in the pilot). Throws usage_error for a metric the report does not
/// have, or options out of range.
std::vector<plan_row> plan_study(const report& pilot, const plan_options& options);

/// The plan from a stated spread instead of a pilot (options.sd): se = sd / sqrt(units) and mde as
/// above when `units` is given; needed = ceil(((z_{1-alpha/2} + z_{power}) sd / effect)^2). Throws
/// usage_error when neither `units` nor `effect` is given, or options are out of range.
plan_row plan_stated(const plan_options& options);

/// The plan as a table for people.
std::string format_plan(const std::vector<plan_row>& rows, const plan_options& options, const report& pilot);

}  // namespace judgebias
