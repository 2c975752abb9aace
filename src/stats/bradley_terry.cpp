// Bradley–Terry by Newton's method on the log-likelihood, which is concave; one strength is held at 0
// while fitting (the model is identified up to a shift) and the anchor applied at the end.
#include "stats/bradley_terry.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

namespace judgebias::detail {

namespace {

constexpr std::uint32_t no_part = 0xFFFFFFFFu;

// The strongly connected parts of the graph a → b "a took a score from b" (Ford's condition holds
// when there is one), by Kosaraju's two passes: the part of each player, and each part's size.
struct strong_parts {
  std::vector<std::uint32_t> part;
  std::vector<std::size_t> size;
};
strong_parts parts_of(std::size_t players, std::span<const bt_games> games) {
  std::vector<std::vector<std::uint32_t>> out(players), in(players);
  for (const bt_games& g : games) {
    if (g.score > 0) out[g.a].push_back(g.b), in[g.b].push_back(g.a);
    if (g.games - g.score > 0) out[g.b].push_back(g.a), in[g.a].push_back(g.b);
  }
  std::vector<std::uint32_t> order;  // players by finishing time of a depth-first walk
  std::vector<char> seen(players, 0);
  for (std::uint32_t start = 0; start < players; ++start) {
    if (seen[start]) continue;
    std::vector<std::pair<std::uint32_t, std::size_t>> stack{{start, 0}};
    seen[start] = 1;
    while (!stack.empty()) {
      auto& [p, next] = stack.back();
      if (next < out[p].size()) {
        const std::uint32_t q = out[p][next++];
        if (!seen[q]) seen[q] = 1, stack.emplace_back(q, 0);
      } else {
        order.push_back(p);
        stack.pop_back();
      }
    }
  }
  strong_parts r;
  r.part.assign(players, no_part);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (r.part[*it] != no_part) continue;
    const auto id = static_cast<std::uint32_t>(r.size.size());
    r.size.push_back(0);
    std::vector<std::uint32_t> stack{*it};
    r.part[*it] = id;
    while (!stack.empty()) {
      const std::uint32_t p = stack.back();
      stack.pop_back();
      ++r.size[id];
      for (std::uint32_t q : in[p])
        if (r.part[q] == no_part) r.part[q] = id, stack.push_back(q);
    }
  }
  return r;
}

double log_sigmoid(double x) {
  return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
}

}  // namespace

bt_fit fit_bradley_terry(std::size_t players, std::span<const bt_games> games,
                         std::optional<std::size_t> anchor, bool with_se) {
  bt_fit fit;
  if (players < 2) {
    fit.reason = "needs two or more models";
    return fit;
  }
  std::vector<double> played(players, 0);
  for (const bt_games& g : games) played[g.a] += g.games, played[g.b] += g.games;
  if (std::any_of(played.begin(), played.end(), [](double p) { return p <= 0; })) {
    fit.reason = "a model has no comparison";
    return fit;
  }
  if (parts_of(players, games).size.size() != 1) {
    fit.reason =
        "no finite maximum: some models won (or lost) every comparison against the others (the "
        "comparisons do not link every model both ways)";
    return fit;
  }
  const auto m = static_cast<Eigen::Index>(players);
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(m);
  auto log_likelihood = [&](const Eigen::VectorXd& b) {
    double ll = 0;
    for (const bt_games& g : games) {
      const double d = b[g.a] - b[g.b];
      ll += g.score * log_sigmoid(d) + (g.games - g.score) * log_sigmoid(-d);
    }
    return ll;
  };
  Eigen::VectorXd grad(m);
  Eigen::MatrixXd info(m, m);  // the Fisher information, − the Hessian
  auto derivatives = [&](const Eigen::VectorXd& b) {
    grad.setZero();
    info.setZero();
    for (const bt_games& g : games) {
      const double p = 1 / (1 + std::exp(b[g.b] - b[g.a]));  // P(a beats b)
      const double r = g.score - g.games * p, w = g.games * p * (1 - p);
      grad[g.a] += r, grad[g.b] -= r;
      info(g.a, g.a) += w, info(g.b, g.b) += w, info(g.a, g.b) -= w, info(g.b, g.a) -= w;
    }
  };
  // Player 0 stays at 0 while fitting: the other strengths are free.
  double ll = log_likelihood(beta);
  bool converged = false;
  for (int iteration = 0; iteration < 200 && !converged; ++iteration) {
    derivatives(beta);
    const Eigen::VectorXd step = info.bottomRightCorner(m - 1, m - 1).ldlt().solve(grad.tail(m - 1));
    if (!step.allFinite()) break;
    double t = 1;
    Eigen::VectorXd next = beta;
    for (int halvings = 0; halvings < 40; ++halvings, t /= 2) {
      next.tail(m - 1) = beta.tail(m - 1) + t * step;
      const double ll_next = log_likelihood(next);
      if (ll_next >= ll - 1e-12 * std::abs(ll)) {
        ll = ll_next;
        break;
      }
    }
    converged = t * step.cwiseAbs().maxCoeff() < 1e-11 * (1 + beta.cwiseAbs().maxCoeff());
    beta = next;
  }
  if (!converged) {
    fit.reason = "the fit did not converge";
    return fit;
  }
  const double shift = anchor ? beta[static_cast<Eigen::Index>(*anchor)] : beta.mean();
  fit.strength.resize(players);
  for (Eigen::Index k = 0; k < m; ++k) fit.strength[static_cast<std::size_t>(k)] = beta[k] - shift;
  if (with_se) {
    derivatives(beta);
    Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(m, m);
    cov.bottomRightCorner(m - 1, m - 1) =
        info.bottomRightCorner(m - 1, m - 1).ldlt().solve(Eigen::MatrixXd::Identity(m - 1, m - 1));
    // The anchored strengths are A·β: A = I − 1·e_anchorᵀ, or I − 11ᵀ/m for the mean.
    Eigen::MatrixXd a = Eigen::MatrixXd::Identity(m, m);
    if (anchor)
      a.col(static_cast<Eigen::Index>(*anchor)).array() -= 1;
    else
      a.array() -= 1.0 / static_cast<double>(m);
    const Eigen::MatrixXd anchored = a * cov * a.transpose();
    fit.se.resize(players);
    for (Eigen::Index k = 0; k < m; ++k)
      fit.se[static_cast<std::size_t>(k)] = std::sqrt(std::max(0.0, anchored(k, k)));
  }
  fit.ok = true;
  return fit;
}

bt_fit fit_bradley_terry_fittable(std::size_t players, std::span<const bt_games> games,
                                  std::optional<std::size_t> anchor) {
  const strong_parts parts = parts_of(players, games);
  const auto& part = parts.part;
  const auto& size = parts.size;
  // The largest part; on a tie the anchor's, else the lowest player's.
  std::uint32_t best = no_part;
  for (std::uint32_t p = 0; p < players; ++p) {
    const std::uint32_t c = part[p];
    if (best == no_part || size[c] > size[best] || (size[c] == size[best] && anchor && part[*anchor] == c))
      best = c;
  }
  bt_fit fit;
  if (best == no_part || size[best] < 2) {
    fit.reason = "no two models can be fitted together";
    return fit;
  }
  if (anchor && part[*anchor] != best) {
    fit.reason = "the anchor cannot be fitted with the other models";
    return fit;
  }
  std::vector<std::uint32_t> kept(players, no_part);
  std::uint32_t count = 0;
  for (std::uint32_t p = 0; p < players; ++p)
    if (part[p] == best) kept[p] = count++;
  std::vector<bt_games> inside;
  for (const bt_games& g : games)
    if (kept[g.a] != no_part && kept[g.b] != no_part)
      inside.push_back({kept[g.a], kept[g.b], g.score, g.games});
  bt_fit sub = fit_bradley_terry(count, inside,
                                 anchor ? std::optional<std::size_t>(kept[*anchor]) : std::nullopt, false);
  if (!sub.ok) return sub;
  fit.ok = true;
  fit.strength.assign(players, std::nan(""));
  for (std::uint32_t p = 0; p < players; ++p)
    if (kept[p] != no_part) fit.strength[p] = sub.strength[kept[p]];
  return fit;
}

}  // namespace judgebias::detail
