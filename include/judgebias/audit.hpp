#pragma once
/// \file The per-item audit file (`run --per-item FILE.jsonl`): one JSON line per swap pair and per
/// matched cue pair, so that any number of the report can be recounted from the judgments.

#include <string>

#include "judgebias/dataset.hpp"

namespace judgebias {

/// The audit lines of a dataset, newline-terminated (docs/report.md "Per-item audit file"):
/// - `{"type":"swap_pair","judge","item","task"?,"run","ids":[lo,hi],"verdicts":[v1,v2],"outcome"}` where
///   v1 is the verdict with `ids[0]` shown first and v2 with `ids[1]` shown first, and the outcome is
///   `consistent`, `first_slot`, `second_slot` or `extraction_failure` (as the position module counts);
/// - `{"type":"cue","kind","judge","item","task"?,"run","ids":[a,b],"target","verdicts":[control,
///   perturbed],"outcome"}` with the outcome `same`, `followed_cue`, `flipped` or `extraction_failure`
///   (pairwise), or `score_shift` with `"shift"` (pointwise), as the cue modules count.
/// Judges used as gold (`--gold-judges`) are left out, like everywhere else.
std::string per_item_lines(const dataset& d);

}  // namespace judgebias
