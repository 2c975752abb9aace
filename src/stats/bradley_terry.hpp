#pragma once
// The Bradley–Terry model of paired comparisons, fitted by maximum likelihood (Newton with Eigen):
// P(a beats b) = σ(β_a − β_b). Private: no Eigen type appears in a public header.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace judgebias::detail {

/// The games between two players a ≠ b (indexes below the player count): `score` is what a took from
/// them (a win 1, a tie one half, or any soft outcome in between), `games` how many there were.
struct bt_games {
  std::uint32_t a = 0, b = 0;
  double score = 0, games = 0;
};

/// Fitted strengths, anchored (the anchor player at 0, or their mean at 0), with standard errors from
/// the inverse Fisher information when asked for, or why there is no fit.
struct bt_fit {
  bool ok = false;
  std::string reason;            ///< Why not ok: a player with no games, no finite maximum.
  std::vector<double> strength;  ///< One per player, in log-odds.
  std::vector<double> se;        ///< One per player (0 for the anchor); empty unless asked for.
};

/// Fits the strengths of `players` players from their games (pairs may repeat; they add up). The
/// maximum exists and is unique when every player played and, for any split of the players in two,
/// each side took something from the other (Ford's condition: the graph "a took a score from b" is
/// strongly connected); otherwise the fit is not ok and says so.
bt_fit fit_bradley_terry(std::size_t players, std::span<const bt_games> games,
                         std::optional<std::size_t> anchor, bool with_se);

/// The same over the players that can be fitted: the largest set of players that Ford's condition
/// links (the largest strongly connected part of "a took a score from b"; on a tie in size, the one
/// with the anchor, else the one with the lowest player). The others get NaN strengths. Not ok when
/// fewer than two players are left, or the anchor is not among them. No standard errors.
bt_fit fit_bradley_terry_fittable(std::size_t players, std::span<const bt_games> games,
                                  std::optional<std::size_t> anchor);

}  // namespace judgebias::detail
