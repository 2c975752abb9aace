#pragma once
/// \file `run --compare A,B`: every metric's paired difference between two judges (or two prompt
/// settings recorded as two judges) on the items both judged, with a paired item-bootstrap interval.

#include <string>

#include "judgebias/pipeline.hpp"

namespace judgebias {

/// The comparison as a JSON section (docs/report.md "compare"): for every judge-level metric both
/// judges have, `{"a", "b", "value" (= a − b), "ci", "n" (items), "unit", "reason"?}`, under
/// `metrics.<module>[.<kind>].<metric>` and `by_opponent` / `by_task` / `by_run` like the modules.
/// The interval resamples the shared items jointly: each resample rebuilds the dataset of both judges'
/// records (and the gold judges') on the drawn items, reruns the modules with closed forms, and takes
/// the difference, so that everything the two judges have in common cancels. `cfg.bootstrap`
/// resamples (0: no interval), seeded by `cfg.seed`, spread over `cfg.threads`; results do not depend
/// on the thread count. Throws usage_error when a judge has no records or they share no item.
nlohmann::ordered_json compare_judges(const loaded_data& data, const pipeline& p, const std::string& judge_a,
                                      const std::string& judge_b);

}  // namespace judgebias
