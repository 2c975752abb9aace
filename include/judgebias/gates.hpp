#pragma once
/// \file CI gates on a report: `--fail-if 'self_preference.dbg_pairwise.ci_low > 5'`.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "judgebias/registry.hpp"
#include "judgebias/report.hpp"

namespace judgebias {

/// One gate: `module[.kind].metric[.ci_low|.ci_high] OP number`, OP one of < <= > >=. It applies to
/// every judge's value of the metric (judge level: no opponent, task or run breakdown).
struct gate {
  enum class field : std::uint8_t { value, ci_low, ci_high };
  enum class op : std::uint8_t { less, less_equal, greater, greater_equal };
  std::string text;  ///< As written.
  std::string module, kind, metric;
  gate::field field = field::value;
  gate::op comparison = op::greater;
  double threshold = 0;
};

/// Parses a gate and checks its module and metric against the registry; throws usage_error.
gate parse_gate(const std::string& text, const module_registry& registry);

/// What a gate found for one judge.
struct gate_result {
  std::string judge;            ///< Empty when the report has no row for the metric at all.
  std::string model;            ///< The model of a per-model metric (winrate's); empty otherwise.
  std::optional<double> value;  ///< nullopt: the report has null here (never trips by itself).
  std::string reason;           ///< Why the value is null, when it is.
  bool tripped = false;
};

/// The gate against every judge of the report that has the metric.
std::vector<gate_result> check_gate(const report& r, const gate& g);

}  // namespace judgebias
