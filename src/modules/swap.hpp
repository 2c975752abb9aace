#pragma once
// How a swap pair's two verdicts relate (METRICS.md §2): shared by the position module and the
// per-item audit file, so that both say the same of every pair.

#include <cstdint>

#include "judgebias/judgment.hpp"

namespace judgebias::detail {

/// v1 is the verdict of the record showing lo first, v2 of the one showing hi first.
enum class swap_outcome : std::uint8_t { consistent, first_slot, second_slot, failure };

inline swap_outcome classify_swap(verdict v1, verdict v2) {
  if (v1 == verdict::missing || v2 == verdict::missing) return swap_outcome::failure;
  // Same winner: A then B (lo both times), B then A (hi both times), or tie twice.
  if ((v1 == verdict::a && v2 == verdict::b) || (v1 == verdict::b && v2 == verdict::a) ||
      (v1 == verdict::tie && v2 == verdict::tie))
    return swap_outcome::consistent;
  // The first slot both times: (A, A), (A, tie), (tie, A); else the second: (B, B), (B, tie), (tie, B).
  if (v1 == verdict::a || v2 == verdict::a) return swap_outcome::first_slot;
  return swap_outcome::second_slot;
}

}  // namespace judgebias::detail
