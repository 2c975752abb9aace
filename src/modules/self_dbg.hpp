#pragma once
// self_preference's pairwise DBG as that module reports it, for the modules that set it beside their own
// numbers (attribution's self_effect, gold_noise's leave-one-out panels).

#include <map>
#include <string>
#include <utility>

#include "judgebias/dataset.hpp"
#include "judgebias/module.hpp"

namespace judgebias::detail {

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
