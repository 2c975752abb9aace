#pragma once
// The two modules that sensitivity runs once per pair rule, measuring only what it reads from them.

#include <memory>

#include "judgebias/module.hpp"

namespace judgebias::detail {

/// self_preference measuring only its pairwise DBG (dbg_pairwise, wr_judge, wr_gold of each judge), with
/// the same values, closed-form intervals and status as the whole module at --bootstrap 0 (its
/// diagnostics count only what it reads: not the pointwise records, nor the comparisons without gold).
std::unique_ptr<bias_module> make_self_preference_headline();
/// winrate measuring only each model's win rates against every opponent (or --baseline), without the
/// per-opponent tallies and the Bradley–Terry fits, with the same values, closed-form intervals and
/// status as the whole module at --bootstrap 0 (a Bradley–Terry fit that fails cannot fail it).
std::unique_ptr<bias_module> make_winrate_headline();

}  // namespace judgebias::detail
