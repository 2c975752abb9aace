// Win rates and rankings per judge and model (issue #16): what the judge says each model wins, beside
// what the gold says and what the gold subset corrects the judge's rate to. Sources: AlpacaEval
// (src/alpaca_eval/metrics/helpers.py: the weighted win rate from the preference probability, its
// standard error as the sample sd over sqrt(n), wins, losses and draws, the discrete win rate);
// FastChat's MT-Bench pairwise win rate against a baseline; prediction-powered inference (Angelopoulos
// et al. 2023; PPI++, Angelopoulos, Duchi and Zrnic 2023: the power-tuned λ); Bradley–Terry strengths
// as Chatbot Arena and Arena-Hard rank models. docs/metrics.md "Win rates" has every formula.
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <map>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"
#include "stats/bradley_terry.hpp"

namespace judgebias {

namespace {

using kit::item_sums;
using kit::metric_builder;
using kit::ratio;

// Columns per item of one (model, opponent set): Σ outcome f, Σ f², n, wins, losses, draws; over the
// units with gold (the labelled ones): Σ gold outcome Y, their n, Σ Y², Σ f, Σ f², Σ Y·f.
enum column : std::size_t {
  c_sum,
  c_sq,
  c_n,
  c_wins,
  c_losses,
  c_draws,
  c_gold,
  c_gold_n,
  c_gold_sq,
  c_lab_f,
  c_lab_sq,
  c_lab_gf,
  c_width
};

// One model's outcomes against one opponent (or all, or the baseline).
struct tally {
  explicit tally(std::size_t items) : rows(items, c_width) {}
  item_sums rows;
  std::uint64_t wins = 0, losses = 0, draws = 0;
  void add(std::uint32_t item, double outcome, std::optional<double> gold_outcome) {
    double* r = rows[item];
    r[c_sum] += outcome, r[c_sq] += outcome * outcome, r[c_n] += 1;
    const bool win = outcome > 0.5, loss = outcome < 0.5;
    r[c_wins] += win, r[c_losses] += loss, r[c_draws] += !win && !loss;
    wins += win, losses += loss, draws += !win && !loss;
    if (gold_outcome) {
      const double y = *gold_outcome;
      r[c_gold] += y, r[c_gold_n] += 1, r[c_gold_sq] += y * y;
      r[c_lab_f] += outcome, r[c_lab_sq] += outcome * outcome, r[c_lab_gf] += y * outcome;
    }
  }
};

metric count_metric(std::uint64_t count, std::uint64_t n) {
  metric m;
  m.value = static_cast<double>(count);
  m.n = n;
  m.unit = unit::count;
  m.reason = "a count has no interval";
  return m;
}

// A closed-form interval of a win rate in pp, kept within [0, 100] (a t interval of few outcomes can
// reach past them).
std::optional<std::array<double, 2>> in_pp(std::optional<std::array<double, 2>> ci) {
  if (!ci) return ci;
  return std::array<double, 2>{std::clamp(100 * (*ci)[0], 0.0, 100.0),
                               std::clamp(100 * (*ci)[1], 0.0, 100.0)};
}

// The prediction-powered estimate of the gold's mean outcome from a tally's sums (docs/metrics.md
// "Corrected win rate"): the labelled units are those with gold (n), the others unlabelled (N).
// θ = λ·mean_N(f) + mean_n(Y − λ·f), with λ = 1 (classical PPI) or PPI++'s power-tuned
// λ = Cov_n(Y, f) / ((1 + n/N)·Var_{n+N}(f)) clipped to [0, 1]; λ = 0 (the gold's own mean) when every
// unit has gold. `variance` is the closed form's, λ²·Var_N(f)/N + Var_n(Y − λ·f)/n (NaN below 2 units
// a side).
struct ppi_estimate {
  double value = 0, lambda = 0, variance = std::nan("");
};
std::optional<ppi_estimate> ppi(std::span<const double> s, bool tuned) {
  const double n = s[c_gold_n], big_n = s[c_n] - n;
  if (n < 1) return std::nullopt;
  const double sum_f = s[c_sum], lab_f = s[c_lab_f], un_f = sum_f - lab_f, y = s[c_gold];
  ppi_estimate e;
  if (big_n <= 0) {
    e.lambda = 0;
  } else if (!tuned) {
    e.lambda = 1;
  } else {
    const double all = n + big_n;
    const double var_all = (s[c_sq] - sum_f * sum_f / all) / (all - 1);
    const double cov = (s[c_lab_gf] - y * lab_f / n) / n;
    e.lambda = var_all > 1e-15 ? std::clamp(cov / ((1 + n / big_n) * var_all), 0.0, 1.0) : 0.0;
  }
  const double l = e.lambda;
  e.value = (big_n > 0 ? l * un_f / big_n : 0.0) + (y - l * lab_f) / n;
  // Var of the residual Y − λf over the labelled units, and of f over the unlabelled.
  const double r_sum = y - l * lab_f;
  const double r_sq = s[c_gold_sq] - 2 * l * s[c_lab_gf] + l * l * s[c_lab_sq];
  const double var_r = n >= 2 ? std::max(0.0, (r_sq - r_sum * r_sum / n) / (n - 1)) : std::nan("");
  if (l == 0) {
    e.variance = var_r / n;
  } else if (big_n >= 2) {
    const double var_u = std::max(0.0, (s[c_sq] - s[c_lab_sq] - un_f * un_f / big_n) / (big_n - 1));
    e.variance = l * l * var_u / big_n + var_r / n;
  }
  return e;
}

void put_tally(metric_builder& mb, const tally& t, const std::vector<std::string>& at, double conf) {
  auto path = [&](const char* name) {
    auto p = at;
    p.emplace_back(name);
    return p;
  };
  // Totals: the values now, and the moments of the closed forms (the outcomes are in [0, 1], so the sums
  // of squares lose nothing that shows).
  const std::vector<double> tot = t.rows.rows().totals();
  const auto n = static_cast<std::uint64_t>(tot[c_n]);
  const std::uint64_t n_gold = static_cast<std::uint64_t>(tot[c_gold_n]);
  const auto moments = [](double sum, double sq, double count) {
    kit::moments m;
    m.n = count;
    if (count > 0) m.mean = sum / count;
    if (count >= 2) m.sd = std::sqrt(std::max(0.0, (sq - sum * sum / count) / (count - 1)));
    return m;
  };
  const kit::moments mo = moments(tot[c_sum], tot[c_sq], tot[c_n]);
  const kit::moments gold = moments(tot[c_gold], tot[c_gold_sq], tot[c_gold_n]);
  mb.put(
      path("win_rate"), unit::pp, n, t.rows,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[c_n] <= 0) return std::nullopt;
        return 100 * s[c_sum] / s[c_n];
      },
      [&]() { return in_pp(stats::t_interval(mo.mean, mo.sd, mo.n, conf)); },
      "no parsed record of the model against this opponent");
  // AlpacaEval's standard error: the sample sd (n - 1) of the outcomes over sqrt(n).
  metric se;
  se.unit = unit::pp;
  se.n = n;
  if (n >= 2) {
    se.value = 100 * mo.sd / std::sqrt(mo.n);
    se.reason = "a standard error has no interval (win_rate's is beside it)";
  } else {
    se.reason = "needs 2 or more parsed records";
  }
  mb.put(path("standard_error"), se);
  mb.put(path("n_wins"), count_metric(t.wins, n));
  mb.put(path("n_losses"), count_metric(t.losses, n));
  mb.put(path("n_draws"), count_metric(t.draws, n));
  mb.put(
      path("discrete_win_rate"), unit::pp, n, t.rows,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[c_n] <= 0) return std::nullopt;
        return 100 * (s[c_wins] + s[c_draws] / 2) / s[c_n];
      },
      [&]() {
        return in_pp(stats::wilson_interval(static_cast<double>(t.wins) + static_cast<double>(t.draws) / 2,
                                            static_cast<double>(n), conf));
      },
      "no parsed record of the model against this opponent");
  mb.put(
      path("gold_win_rate"), unit::pp, n_gold, t.rows,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[c_gold_n] <= 0) return std::nullopt;
        return 100 * s[c_gold] / s[c_gold_n];
      },
      [&]() { return in_pp(stats::t_interval(gold.mean, gold.sd, gold.n, conf)); },
      "no record of the model against this opponent has gold");
  for (const bool tuned : {true, false}) {
    const auto estimate = [tuned](std::span<const double> s) -> std::optional<double> {
      const auto e = ppi(s, tuned);
      if (!e) return std::nullopt;
      return 100 * e->value;
    };
    const auto closed = [&tot, tuned, conf]() -> std::optional<std::array<double, 2>> {
      const auto e = ppi(tot, tuned);
      if (!e || !std::isfinite(e->variance)) return std::nullopt;
      return in_pp(stats::wald_interval(e->value, std::sqrt(e->variance), conf));
    };
    mb.put(path(tuned ? "corrected_win_rate" : "corrected_win_rate_ppi"), unit::pp, n, t.rows, estimate,
           closed, "no record of the model against this opponent has gold");
  }
  metric lambda;
  lambda.unit = unit::coefficient;
  lambda.n = n_gold;
  if (const auto e = ppi(tot, true)) {
    lambda.value = e->lambda;
    lambda.reason = "the weight corrected_win_rate gives the unlabelled records; no interval";
  } else {
    lambda.reason = "no record of the model against this opponent has gold";
  }
  mb.put(path("correction_lambda"), lambda);
}

// The Bradley–Terry fits of one measurement, under the judge and under the gold, from per-item sums:
// per model pair p (model ids, first < second) columns 4p..4p+3 hold the first model's score (its
// outcome: 1, 0.5, 0 or P(preferred)) and the games, then the same from the gold verdicts.
class bt_fits {
 public:
  bt_fits(const dataset& d, const kit::selection& sel, std::uint32_t baseline) : id_(++last_id_) {
    for (std::uint32_t k : sel.comparisons(d)) {
      const comparison& c = d.comparisons()[k];
      if (c.model_lo == no_id || c.model_hi == no_id || c.model_lo == c.model_hi) continue;
      const auto key = std::minmax(c.model_lo, c.model_hi);
      if (pair_at_.try_emplace(std::pair(key.first, key.second), pairs_.size()).second)
        pairs_.emplace_back(key.first, key.second);
    }
    baseline_ = baseline;
  }
  std::size_t width() const noexcept { return 4 * pairs_.size(); }
  /// The pair of models a and b (of a comparison the constructor saw).
  std::size_t pair_of(std::uint32_t a, std::uint32_t b) const { return pair_at_.at(std::minmax(a, b)); }
  /// Adds a unit of `pair` (pair_of(a, b)) to an item's row: `a_score` is a's outcome.
  static void add(double* row, std::size_t pair, std::uint32_t a, std::uint32_t b, double a_score,
                  std::optional<double> a_gold) {
    const bool swapped = b < a;
    const std::size_t p = 4 * pair;
    row[p] += swapped ? 1 - a_score : a_score, row[p + 1] += 1;
    if (a_gold) row[p + 2] += swapped ? 1 - *a_gold : *a_gold, row[p + 3] += 1;
  }
  /// Fixes the players (the models with games) from the totals, once every unit is in.
  void settle(std::span<const double> totals, const dataset& d) {
    for (const bool gold : {false, true}) {
      side& s = side_[gold];
      std::vector<std::uint32_t> models;
      for (std::size_t p = 0; p < pairs_.size(); ++p)
        if (totals[4 * p + (gold ? 3 : 1)] > 0)
          models.push_back(pairs_[p].first), models.push_back(pairs_[p].second);
      std::sort(models.begin(), models.end(),
                [&](std::uint32_t x, std::uint32_t y) { return d.models().name(x) < d.models().name(y); });
      models.erase(std::unique(models.begin(), models.end()), models.end());
      for (std::size_t k = 0; k < models.size(); ++k) {
        s.player.emplace(models[k], k);
        if (models[k] == baseline_) s.anchor = k;
      }
      s.players = models.size();
    }
  }
  /// The player index of a model in a fit, or nullopt when it has no games there.
  std::optional<std::size_t> player(std::uint32_t model, bool gold) const {
    const auto& p = side_[gold].player;
    const auto it = p.find(model);
    if (it == p.end()) return std::nullopt;
    return it->second;
  }
  /// The games of a model in a fit (its units against every opponent).
  std::uint64_t games_of(std::span<const double> totals, std::uint32_t model, bool gold) const {
    double n = 0;
    for (std::size_t p = 0; p < pairs_.size(); ++p)
      if (pairs_[p].first == model || pairs_[p].second == model) n += totals[4 * p + (gold ? 3 : 1)];
    return static_cast<std::uint64_t>(n);
  }
  bool same_players() const { return side_[0].player == side_[1].player; }
  /// The fit from sums (the totals, or one resample's), kept per thread for the other models' metrics
  /// of the same resample.
  const detail::bt_fit& fit(std::span<const double> sums, bool gold, bool with_se = false) const {
    struct entry {
      std::uint64_t owner = 0;
      bool gold = false, se = false;
      std::vector<double> key;
      detail::bt_fit fit;
    };
    thread_local std::array<entry, 96> ring;
    thread_local std::size_t next = 0;
    for (const entry& e : ring)
      if (e.owner == id_ && e.gold == gold && e.se == with_se &&
          std::equal(e.key.begin(), e.key.end(), sums.begin(), sums.end()))
        return e.fit;
    entry& e = ring[next];
    next = (next + 1) % ring.size();
    e.owner = id_, e.gold = gold, e.se = with_se;
    e.key.assign(sums.begin(), sums.end());
    const side& s = side_[gold];
    std::vector<detail::bt_games> games;
    games.reserve(pairs_.size());
    for (std::size_t p = 0; p < pairs_.size(); ++p) {
      const double n = sums[4 * p + (gold ? 3 : 1)];
      if (n <= 0) continue;
      const auto a = s.player.find(pairs_[p].first), b = s.player.find(pairs_[p].second);
      if (a == s.player.end() || b == s.player.end()) continue;
      games.push_back({static_cast<std::uint32_t>(a->second), static_cast<std::uint32_t>(b->second),
                       sums[4 * p + (gold ? 2 : 0)], n});
    }
    e.fit = detail::fit_bradley_terry(s.players, games, s.anchor, with_se);
    return e.fit;
  }
  /// The rank (1 for the strongest; ties share the better rank) of a player in a fit.
  static double rank(const detail::bt_fit& f, std::size_t player) {
    const double mine = f.strength[player];
    double rank = 1;
    for (double x : f.strength) rank += x > mine + 1e-9 * (1 + std::abs(mine));
    return rank;
  }

 private:
  struct side {
    std::unordered_map<std::uint32_t, std::size_t> player;  // model id -> player
    std::size_t players = 0;
    std::optional<std::size_t> anchor;  // the baseline's player; nullopt: the mean is 0
  };
  static inline std::atomic<std::uint64_t> last_id_{0};
  std::uint64_t id_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::size_t> pair_at_;
  std::uint32_t baseline_ = no_id;
  std::array<side, 2> side_;
};

// A metric of a fit that has no closed-form interval (a rank): with --bootstrap the builder's, else
// the value alone, saying why.
void put_without_closed_form(metric_builder& mb, const config& cfg, std::vector<std::string> path, unit u,
                             std::uint64_t n, const kit::item_sums& rows, const stats::statistic& stat,
                             std::string_view empty_reason) {
  if (cfg.bootstrap > 0) {
    mb.put(std::move(path), u, n, rows, stat, nullptr, empty_reason);
    return;
  }
  metric m;
  m.unit = u;
  m.n = n;
  m.value = n > 0 ? stat(rows.rows().totals()) : std::nullopt;
  m.reason = m.value ? "no closed-form interval (the bootstrap gives one)" : std::string(empty_reason);
  mb.put(std::move(path), std::move(m));
}

// The Bradley–Terry metrics of one model: its strength and rank under the judge and under the gold,
// and the shift of its rank.
void put_bt(metric_builder& mb, const config& cfg, const bt_fits& bt, const kit::item_sums& rows,
            std::span<const double> totals, std::uint32_t model, const std::vector<std::string>& at) {
  auto path = [&](const char* name) {
    auto p = at;
    p.emplace_back(name);
    return p;
  };
  const auto strength_of = [&bt, model](bool gold) {
    return [&bt, model, gold](std::span<const double> s) -> std::optional<double> {
      const auto p = bt.player(model, gold);
      const auto& f = bt.fit(s, gold);
      if (!p || !f.ok) return std::nullopt;
      return f.strength[*p];
    };
  };
  const auto rank_of = [&bt, model](bool gold) {
    return [&bt, model, gold](std::span<const double> s) -> std::optional<double> {
      const auto p = bt.player(model, gold);
      const auto& f = bt.fit(s, gold);
      if (!p || !f.ok) return std::nullopt;
      return bt_fits::rank(f, *p);
    };
  };
  std::array<std::string, 2> why;  // why there is no fit, judge and gold
  for (const bool gold : {false, true}) {
    const auto player = bt.player(model, gold);
    const std::uint64_t n = bt.games_of(totals, model, gold);
    const detail::bt_fit whole = bt.fit(totals, gold, true);  // a copy: later fits reuse the cache
    why[gold] = !player ? (gold ? "no comparison of the model has gold" : "no parsed comparison of the model")
                : whole.ok ? ""
                           : whole.reason;
    const char* strength = gold ? "gold_bt_strength" : "bt_strength";
    const char* rank = gold ? "gold_rank" : "rank";
    if (!why[gold].empty()) {
      metric m;
      m.unit = unit::coefficient;
      m.n = n;
      m.reason = why[gold];
      mb.put(path(strength), m);
      m.unit = unit::count;
      mb.put(path(rank), m);
      continue;
    }
    const std::size_t k = *player;
    const double conf = cfg.confidence;
    mb.put(
        path(strength), unit::coefficient, n, rows, strength_of(gold),
        [&]() -> std::optional<std::array<double, 2>> {
          return stats::wald_interval(whole.strength[k], whole.se[k], conf);
        },
        why[gold]);
    put_without_closed_form(mb, cfg, path(rank), unit::count, n, rows, rank_of(gold), why[gold]);
  }
  const std::uint64_t n = bt.games_of(totals, model, false);
  if (!why[0].empty() || !why[1].empty() || !bt.same_players()) {
    metric m;
    m.unit = unit::count;
    m.n = n;
    m.reason = !why[0].empty()   ? "no rank under the judge: " + why[0]
               : !why[1].empty() ? "no rank under the gold: " + why[1]
                                 : "the gold does not compare the same models as the judge";
    mb.put(path("rank_shift"), m);
    return;
  }
  put_without_closed_form(
      mb, cfg, path("rank_shift"), unit::count, n, rows,
      [judge = rank_of(false), gold = rank_of(true)](std::span<const double> s) -> std::optional<double> {
        const auto j = judge(s), g = gold(s);
        if (!j || !g) return std::nullopt;
        return *j - *g;
      },
      "");
}

// The chart of win rates per model under the judge, the gold and the correction.
chart_spec win_rate_chart(std::string series, int order) {
  return chart_spec{"win_rate",
                    60,
                    "Win rate per model: judge, gold and corrected (pp)",
                    "Each model against every opponent (or --baseline); the corrected rate estimates the "
                    "gold's from every record and the gold subset.",
                    50.0,
                    std::move(series),
                    order};
}

class winrate_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "winrate"; }
  std::string_view description() const noexcept override {
    return "Win rate of each model under each judge (against each opponent, or --baseline), beside the "
           "gold's";
  }
  std::vector<metric_info> metrics() const override {
    return {
        metric_info{"win_rate", unit::pp, bias_direction::none,
                    "mean outcome of the model's records: P(model preferred) from prob_a, else 1 / 0.5 / 0"}
            .shown(1)
            .drawn(win_rate_chart("judge", 1)),
        {"standard_error", unit::pp, bias_direction::none, "sample sd of the outcomes (n - 1) over sqrt(n)"},
        {"n_wins", unit::count, bias_direction::none, "records whose outcome is above one half"},
        {"n_losses", unit::count, bias_direction::none, "records whose outcome is below one half"},
        {"n_draws", unit::count, bias_direction::none, "records whose outcome is exactly one half"},
        {"discrete_win_rate", unit::pp, bias_direction::none, "(wins + draws / 2) / n"},
        metric_info{"gold_win_rate", unit::pp, bias_direction::none,
                    "the same from the gold verdicts, over the records that have gold"}
            .shown(2)
            .drawn(win_rate_chart("gold", 2)),
        metric_info{"corrected_win_rate", unit::pp, bias_direction::none,
                    "the gold's win rate estimated from every record and the gold subset (PPI++, "
                    "power-tuned)"}
            .shown(3)
            .drawn(win_rate_chart("corrected (PPI++)", 3)),
        {"corrected_win_rate_ppi", unit::pp, bias_direction::none,
         "the same with lambda = 1 (classical prediction-powered inference)"},
        {"correction_lambda", unit::coefficient, bias_direction::none,
         "PPI++'s power-tuned weight of the records without gold, in [0, 1]"},
        {"bt_strength", unit::coefficient, bias_direction::none,
         "Bradley-Terry strength (log-odds) from all the judge's comparisons, the baseline (or the mean) at "
         "0"},
        {"rank", unit::count, bias_direction::none, "rank by bt_strength, 1 the strongest"},
        {"gold_bt_strength", unit::coefficient, bias_direction::none, "the same from the gold verdicts"},
        {"gold_rank", unit::count, bias_direction::none, "rank by gold_bt_strength"},
        metric_info{"rank_shift", unit::count, bias_direction::away_from_zero,
                    "rank under the judge minus rank under the gold (negative: the judge moves it up)"}
            .shown(4),
    };
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    bool any = false;
    for (const comparison& c : d.comparisons())
      any |=
          !d.is_gold_judge(c.judge) && c.model_lo != no_id && c.model_hi != no_id && c.model_lo != c.model_hi;
    if (!any) {
      result.skipped = true;
      result.reason = "no pairwise comparison of a measured judge names the models of both answers";
      return result;
    }
    nlohmann::ordered_json failures = nlohmann::ordered_json::object();  // per judge, over all its records
    result.body = kit::per_judge(d, cfg, [&](const kit::selection& s) {
      std::uint64_t n = 0;
      auto m = measure(d, cfg, s, n);
      if (s.all()) failures[d.judges().name(s.judge)] = n;
      return m;
    });
    nlohmann::ordered_json diagnostics = {{"extraction_failures_by_judge", std::move(failures)}};
    if (!cfg.baseline.empty()) diagnostics["baseline_found"] = d.models().find(cfg.baseline) != no_id;
    result.body.extra({"diagnostics"}, std::move(diagnostics));
    return result;
  }

 private:
  // The metrics of one judge (or one --by group of it); `failures` counts its units that are extraction
  // failures (left out).
  kit::measurement measure(const dataset& d, const config& cfg, const kit::selection& sel,
                           std::uint64_t& failures) const {
    metric_builder mb(d, cfg, name(), sel);
    const std::size_t items = d.items().size();
    const bool soft = cfg.pair_rule == pair_rule::each;  // prob_a scores a record, not a pair
    // With --baseline, a model's own tally is against the baseline only (no_id if it is not in the data).
    const bool against_baseline = !cfg.baseline.empty();
    const std::uint32_t baseline = against_baseline ? d.models().find(cfg.baseline) : no_id;
    // Per model: its overall tally (against every opponent, or the baseline) and one per opponent, by
    // name so that the report's order does not depend on interning.
    struct model_tallies {
      explicit model_tallies(std::size_t items) : all(items) {}
      tally all;
      std::map<std::string, tally> by;
      std::vector<tally*> by_id;  // by opponent id, nullptr until met (the map's nodes stay put)
    };
    std::map<std::string, model_tallies> models;
    std::vector<model_tallies*> of_id(d.models().size(), nullptr);  // one name lookup per model, not per unit
    auto of = [&](std::uint32_t model) -> model_tallies& {
      model_tallies*& m = of_id[model];
      if (!m) {
        m = &models.try_emplace(d.models().name(model), items).first->second;
        m->by_id.assign(d.models().size(), nullptr);
      }
      return *m;
    };
    auto against = [&](model_tallies& m, std::uint32_t opponent) -> tally& {
      tally*& t = m.by_id[opponent];
      if (!t) t = &m.by.try_emplace(d.models().name(opponent), items).first->second;
      return *t;
    };
    bt_fits bt(d, sel, baseline);
    kit::item_sums bt_rows(items, bt.width());
    std::vector<kit::scored_unit> units;
    const auto comparisons = sel.comparisons(d);
    for (std::size_t k = 0; k < comparisons.size(); ++k) {
      const comparison& c = d.comparisons()[comparisons[k]];
      if (c.model_lo == no_id || c.model_hi == no_id || c.model_lo == c.model_hi) continue;
      units.clear();
      kit::score_comparison(d, sel, k, cfg.pair_rule, units);
      const std::size_t pair = bt.pair_of(c.model_lo, c.model_hi);
      const std::optional<double> gold_lo = c.gold == no_id ? std::nullopt
                                                            : std::optional<double>(c.gold == c.lo   ? 1.0
                                                                                    : c.gold == c.hi ? 0.0
                                                                                                     : 0.5);
      for (const auto& u : units) {
        double lo;  // the outcome of the lower id's model
        if (soft && !u.pair && !std::isnan(d.prob_a(u.first))) {
          lo = d.cand_a(u.first) == c.lo ? d.prob_a(u.first) : 1.0 - d.prob_a(u.first);
        } else if (u.outcome != no_id) {
          lo = u.outcome == c.lo ? 1.0 : u.outcome == c.hi ? 0.0 : 0.5;
        } else {
          ++failures;
          continue;
        }
        const std::uint32_t item = d.item(u.first);
        auto count = [&](std::uint32_t model, std::uint32_t opponent, double outcome,
                         std::optional<double> g) {
          model_tallies& m = of(model);
          if (!against_baseline || opponent == baseline) m.all.add(item, outcome, g);
          against(m, opponent).add(item, outcome, g);
        };
        bt.add(bt_rows[item], pair, c.model_lo, c.model_hi, lo, gold_lo);
        count(c.model_lo, c.model_hi, lo, gold_lo);
        count(c.model_hi, c.model_lo, 1.0 - lo,
              gold_lo ? std::optional<double>(1.0 - *gold_lo) : std::nullopt);
      }
    }
    const double conf = cfg.confidence;
    const std::vector<double> bt_totals = bt_rows.rows().totals();
    bt.settle(bt_totals, d);
    for (const auto& [model, tallies] : models) {
      const auto& [all, by, by_id] = tallies;
      // The baseline against itself says nothing: it has its strength and rank only.
      if (!against_baseline || model != cfg.baseline) put_tally(mb, all, {"models", model}, conf);
      put_bt(mb, cfg, bt, bt_rows, bt_totals, d.models().find(model), {"models", model});
      if (against_baseline && model == cfg.baseline) continue;
      for (const auto& [opponent, t] : by) put_tally(mb, t, {"models", model, "by_opponent", opponent}, conf);
    }
    kit::measurement out = mb.take();
    // A rank's percentile interval can fall between ranks: widened to whole ones.
    for (auto& member : out.members)
      if (member.value && member.value->unit == unit::count && member.value->ci)
        member.value->ci =
            std::array<double, 2>{std::floor((*member.value->ci)[0]), std::ceil((*member.value->ci)[1])};
    return out;
  }
};

}  // namespace

std::unique_ptr<bias_module> make_winrate_module() {
  return std::make_unique<winrate_module>();
}

}  // namespace judgebias
