#pragma once
// The perturbation engine (METRICS.md §4): metrics of one cue kind over matched (control, perturbed)
// pairs, shared by the bandwagon, authority and cue modules and by verbosity's counterfactual section.

#include <string_view>

#include <nlohmann/json.hpp>

#include "judgebias/dataset.hpp"
#include "judgebias/module.hpp"

namespace judgebias::detail {

/// One kind's section: {"judges": {judge: metrics}, "by_task"/"by_run"..., "diagnostics": {...}}.
/// `stream` names the random streams (the module, and the kind for `cue`).
section_body cue_section(const dataset& d, const config& cfg, std::string_view stream, std::uint32_t kind);

/// The metrics of a cue section, declared in `section` (empty, a name, or every_section); their
/// robustness_rate is a series of the "robustness" chart, placed by `series_order`.
std::vector<metric_info> cue_metrics(std::string_view section, int series_order);

}  // namespace judgebias::detail
