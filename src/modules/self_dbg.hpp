#pragma once
// self_preference's pairwise DBG as that module reports it, for the modules that set it beside their own
// numbers (attribution's self_effect, gold_noise's leave-one-out panels and two-level bootstrap).

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "judgebias/dataset.hpp"
#include "judgebias/module.hpp"
#include "judgebias/module_kit.hpp"

namespace judgebias::detail {

/// One comparison of a judge's own model's response against another model's, as the pairwise DBG counts
/// it.
struct own_comparison {
  std::size_t at = 0;                ///< Its place in the selection's comparisons().
  std::uint32_t comparison = no_id;  ///< Its index in dataset::comparisons().
  std::uint32_t own = no_id;         ///< The own response's candidate id (the comparison's lo or hi).
  std::optional<double> w;           ///< The judge's own-win share; nullopt: no parsed verdict.
};

/// The own-vs-other comparisons of selection `sel` (whatever their gold), in its order.
std::vector<own_comparison> own_comparisons(const dataset& d, const config& cfg, const kit::selection& sel);

/// self_preference evaluated on `d` with `cfg`: its dbg_pairwise per judge and selection group ("" for all
/// of a judge's records, "task=T", "run=R" as kit::selection names them).
class self_preference_dbg {
 public:
  self_preference_dbg(const dataset& d, const config& cfg);
  /// The metric, or a null one with why there is none (the module's status, or no row for the judge).
  metric of(const std::string& judge, const std::string& group_name = "") const;

 private:
  std::map<std::pair<std::string, std::string>, metric> rows_;
  std::string why_none_;  // set when self_preference did not run
};

}  // namespace judgebias::detail
